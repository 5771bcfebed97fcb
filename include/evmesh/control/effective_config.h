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

}  // namespace evmesh::control
