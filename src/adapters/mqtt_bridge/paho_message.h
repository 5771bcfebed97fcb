// Paho messages <-> the codec's library-independent MqttMessage.
#pragma once

#include <mqtt/message.h>

#include "evmesh/codec/mqtt_binding.h"

namespace evmesh::mqtt_bridge {

// A received message; MQTT 5 Content Type and user properties (in order) when
// `protocol_version` is 5.
codec::MqttMessage from_paho(const mqtt::message& m, int protocol_version);

// A message to publish at QoS 1, not retained; properties only for MQTT 5.
mqtt::message_ptr to_paho(codec::MqttMessage&& m);

}  // namespace evmesh::mqtt_bridge
