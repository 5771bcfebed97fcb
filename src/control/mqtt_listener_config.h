// Internal to the control module: the parts of the `mqtt:` section (the native
// listener, MqttListenerConfig) that are more than one scalar, shared with the
// bridges' (`mqtt_bridges:`) readers.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config_reader.h"
#include "evmesh/control/config.h"

namespace evmesh::control::detail {

// A scalar that must be a valid MQTT topic filter.
std::string topic_filter(const Reader& r, const YAML::Node& n, const std::string& k);

// mqtt.max_keep_alive: whole seconds from 1 s to 65535 s (a 16-bit field in CONNACK).
std::chrono::milliseconds keep_alive_limit(const Reader& r, const YAML::Node& n, const std::string& k);

// mqtt.topic_types and mqtt_bridges.NAME.types: a list of {filter: TOPIC-FILTER, type: EVENT-TYPE}.
std::vector<MqttTopicTypeConfig> read_topic_types(const Reader& r, const YAML::Node& list,
                                                  const std::string& key);

}  // namespace evmesh::control::detail
