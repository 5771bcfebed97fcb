// Internal to the control module: the `mqtt_bridges:` section, a mapping of bridge
// name -> bridge settings (MqttBridgeConfig, docs/configuration.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <string_view>

#include "config_reader.h"
#include "evmesh/control/config.h"

namespace evmesh::control::detail {

inline constexpr std::string_view kMqttBridgesSection = "mqtt_bridges";

// Reads every bridge into config.mqtt_bridges. Throws ConfigError naming the key
// ("mqtt_bridges.plant.subscribe[1]").
void read_mqtt_bridges(const Reader& r, const YAML::Node& section, Config& config);

}  // namespace evmesh::control::detail
