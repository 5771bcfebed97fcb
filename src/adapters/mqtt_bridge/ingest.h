// Ingest: the inbound half of a bridge. Messages the external broker sends on the
// bridge's subscriptions (QoS 1) are decoded with the CloudEvents MQTT binding and
// published into the runtime.
//
// Acknowledgement window, honestly: Paho MQTT C sends the PUBACK for a QoS 1
// message before it hands the message to us (it has no manual ack), so the broker
// forgets a message once Paho holds it in memory. We then publish it synchronously
// on Paho's thread, and while the runtime is overloaded we wait and retry there:
// Paho stops reading the socket, the broker holds everything else in our session.
// A message is lost only when evmeshd dies (or stops) between that PUBACK and the
// runtime accepting it - one message per bridge at most.
//
// A message that is not a valid event (bad structured JSON, invalid attribute) or is
// larger than max_message_bytes is dropped with a warning naming the reason:
// redelivering it cannot help.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "connection.h"
#include "evmesh/codec/mqtt_binding.h"
#include "evmesh/runtime/runtime.h"

namespace evmesh::mqtt_bridge {

struct IngestStats {
  std::uint64_t ingested = 0;  // accepted by the runtime
  std::uint64_t invalid = 0;   // not a valid event: dropped
  std::uint64_t lost = 0;      // refused by a stopping runtime
};

class Ingest {
 public:
  // Subscribes `connection` to the bridge's filters (on every connect) and installs
  // the message handler. Call before connection->start().
  Ingest(const control::MqttBridgeConfig& config, std::shared_ptr<Connection> connection,
         Runtime& runtime);
  // No more waiting for an overloaded runtime (called before the connection stops).
  void stop() { stopping_ = true; }
  IngestStats stats() const;

 private:
  void subscribe(mqtt::async_client& client);
  void handle(const mqtt::const_message_ptr& m);

  const control::MqttBridgeConfig config_;
  codec::MqttIngestDefaults defaults_;
  std::shared_ptr<Connection> connection_;
  Runtime& runtime_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> ingested_{0}, invalid_{0}, lost_{0};
};

}  // namespace evmesh::mqtt_bridge
