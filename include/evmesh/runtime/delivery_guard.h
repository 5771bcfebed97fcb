// The read side of access control, as routing sees it: may a subscription's owner
// receive this event? The runtime asks for every (event, owned subscription) pair it
// routes; an event the owner may not read is skipped for that subscription only.
// Implemented by the control module (ACLs); the runtime knows nothing of principals
// beyond the owner's name. Called on publishing threads: must be thread-safe and cheap.
#pragma once

#include <string_view>

#include "evmesh/core/event.h"

namespace evmesh {

class DeliveryGuard {
 public:
  virtual ~DeliveryGuard() = default;
  // `owner` is Subscription::owner (never empty: unowned subscriptions are not asked).
  virtual bool may_receive(std::string_view owner, const Event& ev) const = 0;
};

}  // namespace evmesh
