// How a durable API subscription is kept in the event store across restarts
// (docs/storage.md): its Subscriptions API object (to_json, every effective value)
// plus what that object leaves out, its owner:
//   {"version": 1, "owner": "alice", "subscription": {...}}
// Pure functions, callable from any thread.
#pragma once

#include <string>
#include <string_view>

#include "evmesh/core/error.h"
#include "evmesh/runtime/subscription.h"

namespace evmesh::control {

std::string encode_saved_subscription(const Subscription& sub);
// The subscription back, as an API-created one (declared_in_config false). Errors
// (invalid_subscription) name what is wrong: a damaged record, an unknown version,
// or a property the current version no longer accepts.
Result<Subscription> decode_saved_subscription(std::string_view text);

}  // namespace evmesh::control
