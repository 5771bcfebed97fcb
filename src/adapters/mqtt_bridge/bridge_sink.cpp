#include "bridge_sink.h"

namespace evmesh::mqtt_bridge {

BridgeSink::BridgeSink(std::shared_ptr<Publisher> publisher, TopicTemplate topic, DeliveryMode mode,
                       std::chrono::milliseconds timeout)
    : publisher_(std::move(publisher)),
      topic_(std::move(topic)),
      mode_(mode == DeliveryMode::structured ? codec::MqttMode::structured : codec::MqttMode::binary),
      timeout_(timeout) {}

void BridgeSink::send(EventPtr ev, std::function<void(DeliveryOutcome)> done) {
  auto topic = topic_.expand(*ev);
  if (!topic)
    return done({DeliveryOutcome::Kind::permanent, 0, topic.error().message, std::nullopt});
  publisher_->publish(
      codec::encode_mqtt(*ev, mode_, publisher_->connection()->protocol_version(), std::move(*topic)),
      timeout_, std::move(done));
}

}  // namespace evmesh::mqtt_bridge
