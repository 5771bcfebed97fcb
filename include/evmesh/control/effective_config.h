// The running configuration as JSON, for the admin API (GET /admin/config) and
// `evmeshctl admin config`. Secrets never leave the process: API key hashes, JWT
// secrets and public keys, and subscription header values read "<redacted>"; file
// paths are shown.
#pragma once

#include <nlohmann/json.hpp>

#include "evmesh/control/config.h"

namespace evmesh::control {

inline constexpr std::string_view kRedacted = "<redacted>";

nlohmann::json effective_config(const Config& config);

// The config in force after a reload: `next`, except the keys that take effect only
// at a restart (docs/operations.md: the listeners, runtime, webhook, store, log,
// mqtt_bridges, reload), which keep their `running` values. A listener's TLS files
// (http.tls, admin.tls, mqtt.tls) do reload while its TLS stays on.
Config config_in_force(const Config& running, const Config& next);

// Dotted keys of the effective config ("http.port") whose value in `wanted` (the
// file as last loaded) is not the one `in_force`: they wait for a restart.
std::vector<std::string> pending_restart(const Config& in_force, const Config& wanted);

}  // namespace evmesh::control
