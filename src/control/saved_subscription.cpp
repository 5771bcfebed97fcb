#include "evmesh/control/saved_subscription.h"

#include <nlohmann/json.hpp>

#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {

namespace {
constexpr int kVersion = 1;
}  // namespace

std::string encode_saved_subscription(const Subscription& sub) {
  return nlohmann::json{{"version", kVersion}, {"owner", sub.owner}, {"subscription", to_json(sub)}}
      .dump();
}

Result<Subscription> decode_saved_subscription(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(Errc::invalid_subscription, "the saved record is not a JSON object");
  auto version = j.find("version");
  if (version == j.end() || *version != kVersion)
    return fail(Errc::invalid_subscription, "the saved record has version " +
                                                (version == j.end() ? "none" : version->dump()) +
                                                ", expected " + std::to_string(kVersion));
  auto owner = j.find("owner");
  auto spec = j.find("subscription");
  if (owner == j.end() || !owner->is_string() || spec == j.end() || !spec->is_object())
    return fail(Errc::invalid_subscription, "the saved record lacks its owner or subscription");
  // to_json wrote every effective value, so no defaults are needed to read it back.
  auto sub = parse_subscription(*spec, DeliveryPolicy{});
  if (!sub) return sub;
  sub->owner = owner->get<std::string>();
  sub->declared_in_config = false;
  return sub;
}

}  // namespace evmesh::control
