// A subscription as the runtime holds it: the Subscriptions API object plus our
// delivery settings. Parsed and validated by the control module (from YAML or an API
// body); immutable once accepted.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evmesh/core/backoff.h"
#include "evmesh/core/sink.h"
#include "evmesh/filter/filter.h"

namespace evmesh {

struct DeliveryPolicy {
  RetryPolicy retry;
  std::uint32_t concurrency = 1;         // 1 = in order; > 1 = parallel, unordered
  std::size_t queue_capacity = 10'000;   // events waiting; full -> publishers get 503
  std::optional<SinkSpec> dead_letter;   // where exhausted events go; none = dropped, logged
  friend bool operator==(const DeliveryPolicy&, const DeliveryPolicy&) = default;
};

// Where replay starts (docs/storage.md): the oldest retained event, or the first
// one appended to the store at or after `time`.
struct ReplayFrom {
  std::optional<std::chrono::system_clock::time_point> time;  // nullopt: the oldest
  std::string text;                                           // as given, echoed back
  // "oldest" or an RFC 3339 date-time; invalid_subscription naming what is wrong.
  static Result<ReplayFrom> parse(std::string_view text);
};

struct Subscription {
  std::string id;
  std::optional<std::string> source;     // Subscriptions API: events must have this source
  std::vector<std::string> types;        // Subscriptions API: type must be one of these
  nlohmann::json config = nlohmann::json::object();  // opaque, echoed back
  std::vector<filter::FilterPtr> filters;
  SinkSpec sink;
  DeliveryPolicy delivery;
  bool declared_in_config = false;       // from YAML rather than the API
  // Events are committed to the event store before the publisher's ack and
  // delivered at least once across restarts (docs/storage.md).
  bool durable = false;
  // Durable only: where delivery starts when the subscription is first created
  // (it has no cursor yet), instead of the end of the log (docs/storage.md).
  std::optional<ReplayFrom> replay;
  // The principal that created it over an API (docs/security.md): it only receives
  // events its owner may subscribe to. Empty for the operator's (YAML) subscriptions.
  std::string owner;

  // filters, plus `source` and `types` turned into filters: what routing evaluates.
  std::vector<filter::FilterPtr> effective_filters() const;
};

}  // namespace evmesh
