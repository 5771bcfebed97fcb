// Internal to the control module: pieces of the Subscriptions API object parser that
// the YAML config reuses (the `delivery:` defaults section has the same shape and
// rules as a subscription's `delivery` object).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "evmesh/core/error.h"
#include "evmesh/runtime/subscription.h"

namespace evmesh::control::detail {

inline constexpr std::array<std::string_view, 9> kDeliveryKeys = {
    "mode",    "maxattempts", "maxage",        "initialbackoff", "maxbackoff",
    "timeout", "concurrency", "queuecapacity", "deadlettersink"};

inline constexpr std::uint32_t kMaxConcurrency = 1024;
inline constexpr std::size_t kMaxQueueCapacity = 10'000'000;

// Applies a `delivery` object onto `policy` (retry, concurrency, queue, dead letter)
// and `sink` (mode, timeout); absent properties keep their current value. `path` is
// where the object sits ("delivery") and prefixes every error pointer. An inherited
// dead-letter sink is rebuilt so it follows the resulting mode and timeout.
Result<void> apply_delivery(const nlohmann::json& object, std::string_view path,
                            DeliveryPolicy& policy, SinkSpec& sink);

// The dead-letter sink for `uri`: plain HTTP POST with the subscription's mode and
// per-attempt timeout, no custom headers.
SinkSpec make_dead_letter(std::string uri, const SinkSpec& sink);

// invalid_subscription with message "<pointer>: <what>" (just <what> at the root).
std::unexpected<Error> invalid(std::string_view pointer, std::string_view what);

// A string for a message: JSON-quoted, at most 64 bytes (then "..."), so a hostile
// value cannot flood a log line or break it.
std::string quote(std::string_view s);
// "got ..." text for messages: a quoted, truncated string, a number, or the kind.
std::string got(const nlohmann::json& v);

// True when `name` can sit in a dotted pointer without breaking its syntax (no
// '.', '[', ']', spaces or controls); other unknown names are only quoted in messages.
bool pointer_safe(std::string_view name);

// Joins a path and a property name: ("delivery", "mode") -> "delivery.mode".
std::string join(std::string_view path, std::string_view name);

}  // namespace evmesh::control::detail
