// CESQL type casting (spec section 3.7). Every cast the spec requires is supported:
//   Integer -> String   base 10, '-' for negatives          never fails
//   Integer -> Boolean  0 -> false, anything else -> true     never fails
//   String  -> Integer  optional '+'/'-' then base-10 digits, within int32; else error, 0
//   String  -> Boolean  ASCII-case-insensitive "true"/"false"; else error, false
//   Boolean -> Integer  1 / 0                                  never fails
//   Boolean -> String   "true" / "false"                       never fails
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "value.h"

namespace evmesh::cesql::detail {

std::optional<std::int32_t> parse_int(std::string_view s);
std::optional<bool> parse_bool(std::string_view s);

// Casts v to target in place. On failure v becomes the target's zero value and the
// return is an error message for a CastError.
std::optional<std::string> cast(Val& v, Type target);

}  // namespace evmesh::cesql::detail
