// The Subscriptions API object <-> Subscription, shared by the HTTP API and YAML.
//
// Accepted body (CloudEvents Subscriptions API, plus our `delivery` object):
//   {
//     "id": "orders",                       ignored on create via POST (spec), kept from YAML
//     "source": "/shop", "types": ["com.example.order.created"],
//     "config": {...},                      opaque, echoed back
//     "filters": [ {"prefix": {"type": "com.example."}} ],
//     "sink": "http://127.0.0.1:9000/hook", "protocol": "HTTP",
//     "protocolsettings": {"method": "POST", "headers": {"x-key": "v"}},
//     "delivery": {
//       "mode": "binary" | "structured",
//       "maxattempts": 10, "maxage": "1h", "initialbackoff": "200ms", "maxbackoff": "60s",
//       "timeout": "10s", "concurrency": 1, "queuecapacity": 10000,
//       "deadlettersink": "http://127.0.0.1:9001/dlq"
//     },
//     "durable": false                      true: stored, at-least-once (docs/storage.md)
//   }
// Unknown top-level properties are rejected (a typo must not silently do nothing).
// Errors are invalid_subscription with `pointer` naming the property, e.g.
// "filters[0].exact" or "delivery.maxattempts".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "evmesh/core/error.h"
#include "evmesh/runtime/subscription.h"

namespace evmesh::control {

// Parses a subscription; fields absent from `body` take their value from `defaults`
// (retry, concurrency, queue, dead letter) and `sink_defaults` (mode, timeout,
// method, headers). `protocol` may be left out only for http:// and https:// sinks
// (then "HTTP"); "HTTP", "GRPC" (sink "grpc-group:NAME", docs/grpc.md) and "MQTT" (sink
// "mqtt://BRIDGE/TOPIC", docs/mqtt-bridges.md) are supported. A dead-letter sink is delivered with the
// subscription's mode and timeout. `id`, when present, must be a string and is kept.
// Pure function, callable from any thread.
Result<Subscription> parse_subscription(const nlohmann::json& body, const DeliveryPolicy& defaults,
                                        const SinkSpec& sink_defaults = {});
// Every effective value, durations as strings ("10s"), "deadlettersink": null when
// there is none; parse_subscription(to_json(s), ...) gives s back.
nlohmann::json to_json(const Subscription& sub);

// A subscription id a client may choose (YAML, PUT /subscriptions/{id}): 1 to 128
// characters from A-Z a-z 0-9 - _ . ~, so it is safe as a URL path segment.
bool valid_subscription_id(std::string_view id);

// Durations: an integer of milliseconds, or a string "250ms", "10s", "5m", "2h", "1d"
// (digits then one unit; no unit-less strings, no fractions). Negative values and
// anything above 3650d are rejected (nullopt); zero is accepted, callers decide.
std::optional<std::chrono::milliseconds> parse_duration(const nlohmann::json& v);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
// Without these, a std::string or literal would be ambiguous between the two above.
inline std::optional<std::chrono::milliseconds> parse_duration(const std::string& s) {
  return parse_duration(std::string_view(s));
}
inline std::optional<std::chrono::milliseconds> parse_duration(const char* s) {
  return parse_duration(std::string_view(s));
}
// The largest unit that divides exactly: 90000ms -> "90s", 3600000ms -> "1h".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace evmesh::control
