// What routing evaluates for a subscription: its `filters`, plus the Subscriptions
// API's `source` (the event's source must equal it) and `types` (the event's type
// must be one of them) turned into filters. A single type becomes a plain `exact`
// rather than an `any` of one, so the subscription index can anchor on it.
#include "evmesh/runtime/subscription.h"

#include "evmesh/core/timestamp.h"

namespace evmesh {

Result<ReplayFrom> ReplayFrom::parse(std::string_view text) {
  if (text == "oldest") return ReplayFrom{std::nullopt, std::string(text)};
  if (auto t = parse_timestamp(text)) return ReplayFrom{*t, std::string(text)};
  return fail(Errc::invalid_subscription,
              "must be \"oldest\" or an RFC 3339 time such as \"2026-01-02T03:04:05Z\", got \"" +
                  std::string(text.substr(0, 64)) + "\"",
              "replay");
}

std::vector<filter::FilterPtr> Subscription::effective_filters() const {
  std::vector<filter::FilterPtr> out = filters;
  if (source) out.push_back(filter::exact("source", *source));
  if (types.size() == 1) {
    out.push_back(filter::exact("type", types.front()));
  } else if (!types.empty()) {
    std::vector<filter::FilterPtr> any_type;
    any_type.reserve(types.size());
    for (const auto& t : types) any_type.push_back(filter::exact("type", t));
    out.push_back(filter::any(std::move(any_type)));
  }
  return out;
}

}  // namespace evmesh
