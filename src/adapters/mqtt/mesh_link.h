// MeshLink: where the MQTT listener meets the rest of evmesh (docs/protocols.md).
//
//  MQTT -> mesh: every accepted PUBLISH becomes a CloudEvent (codec/mqtt_binding.h)
//    and is published to the Runtime, so HTTP and gRPC subscriptions can filter it.
//    When no subscription but the listener's own exists, nothing is decoded at all.
//  mesh -> MQTT: the listener owns one catch-all subscription (id "mqtt-listener")
//    whose sink publishes each event to MQTT subscribers on the topic of
//    topic_for(): the `mqtttopic` extension when it is a valid topic name, else the
//    event_topic template ("events/{type}"). Events that came in over MQTT were
//    already delivered to MQTT subscribers at ingress; the sink recognises them
//    (by identity, not by an attribute) and skips them, so nothing loops.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "broker.h"
#include "evmesh/codec/mqtt_binding.h"
#include "evmesh/core/sink.h"
#include "evmesh/runtime/runtime.h"
#include "mqtt_server.h"

namespace evmesh::mqtt {

struct MeshOptions {
  std::string source_prefix = "/mqtt/";
  std::vector<codec::MqttTopicType> topic_types;
  std::string default_type = "io.evmesh.mqtt.message";
  std::string event_topic = "events/{type}";
  codec::MqttMode event_mode = codec::MqttMode::binary;  // for MQTT 5 subscribers
  std::uint8_t event_qos = 1;
};


struct IngestRefusal {
  std::uint8_t reason;
  std::string message;
  bool overloaded = false;  // a subscription queue is full: trying again later may work
};

// The one place an evmesh Errc becomes an MQTT reason code (PUBACK/PUBREC).
std::uint8_t reason_for(Errc code);

// The topic an event from the mesh is published on (pure; exposed for tests).
std::string topic_for(const Event& ev, std::string_view event_topic_template);

class MeshLink {
 public:
  MeshLink(Runtime& runtime, MeshOptions options, std::shared_ptr<Broker> broker);

  // Called once a deferred ingest is settled: nullopt when committed, else why not.
  using IngestDone = std::function<void(std::optional<IngestRefusal>)>;
  // Any thread, never blocks. nullopt when the mesh admitted the message (or nobody
  // outside MQTT listens), or when it must wait for the store (a durable
  // subscription matched): then later() was called, and the completion it made
  // runs once, on the store's committer thread, after the commit. Otherwise why not.
  // `decoded`: the event decode() already made of `m` (the ACL needed its type).
  std::optional<IngestRefusal> ingest(const Message& m, const std::string& client_id, std::uint8_t version,
                                      EventPtr decoded, const std::function<IngestDone()>& later);
  // The CloudEvent a PUBLISH becomes (codec/mqtt_binding.h), or why it is not one.
  std::expected<EventPtr, IngestRefusal> decode(const Message& m, const std::string& client_id,
                                                std::uint8_t version) const;

  // The type a topic_types entry gives plain messages on `topic`; nullopt when no
  // entry matches (they get default_type, which says nothing about this topic).
  std::optional<std::string> mapped_type(std::string_view topic) const;

  // Sink side: publishes an event from the mesh to MQTT subscribers; `done` runs
  // once every full subscriber queue it waited on has room (inline when none).
  void deliver(const EventPtr& ev, std::function<void()> done);
  MessagePtr to_message(const Event& ev) const;

  // Creates the catch-all subscription. Call once after the sink factory is wired.
  Result<void> subscribe(const DeliveryPolicy& delivery);
  SinkFactory& sinks() { return *factory_; }

 private:
  bool others_listening() const;
  // Events ingested from MQTT, not yet seen by the sink. Shared with deferred publish
  // completions, which may run on the store's thread after the listener is gone.
  struct OwnEvents {
    std::mutex mutex;
    std::unordered_map<const Event*, EventPtr> events;
    void forget(const Event* ev) {  // it was not routed after all
      std::lock_guard lock(mutex);
      events.erase(ev);
    }
  };
  Runtime& runtime_;
  MeshOptions options_;
  std::shared_ptr<Broker> broker_;
  std::unique_ptr<SinkFactory> factory_;
  std::shared_ptr<OwnEvents> own_ = std::make_shared<OwnEvents>();
};

}  // namespace evmesh::mqtt
