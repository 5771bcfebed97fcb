// Reading CloudEvents Timestamps (RFC 3339 date-time) as instants.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace evmesh {

// The instant an RFC 3339 date-time names (fraction kept to microseconds; a leap
// second counts as :59); nullopt when !valid_timestamp(s).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s);

}  // namespace evmesh
