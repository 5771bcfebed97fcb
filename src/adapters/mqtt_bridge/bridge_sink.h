// The Sink of a subscription with protocol "MQTT" and sink "mqtt://BRIDGE/TOPIC":
// encodes each event with the CloudEvents MQTT binding (the subscription's
// delivery.mode; MQTT 3.1.1 bridges always write structured mode) and publishes it
// at QoS 1 on the bridge's topic, completing on PUBACK (see Publisher).
#pragma once

#include <memory>

#include "evmesh/core/sink.h"
#include "publisher.h"
#include "topic_template.h"

namespace evmesh::mqtt_bridge {

class BridgeSink final : public Sink {
 public:
  BridgeSink(std::shared_ptr<Publisher> publisher, TopicTemplate topic, DeliveryMode mode,
             std::chrono::milliseconds timeout);
  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) override;
  void close() override {}  // the bridge's connection outlives its sinks

 private:
  std::shared_ptr<Publisher> publisher_;
  TopicTemplate topic_;
  codec::MqttMode mode_;
  std::chrono::milliseconds timeout_;
};

}  // namespace evmesh::mqtt_bridge
