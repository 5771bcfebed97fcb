// IngressStage: what every published event passes through before routing, whatever
// the protocol it arrived on (the control module's policies and schema registry
// implement it; see include/evmesh/control/pipeline.h).
//
// Runtime::publish calls admit() only when active() is true, so a broker without
// policies or schemas pays one relaxed atomic load per publish.
//
// Thread-safety: any thread, concurrently; an implementation reads immutable snapshots.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "evmesh/core/error.h"
#include "evmesh/core/event.h"

namespace evmesh {

// One admitted event: possibly transformed, possibly sent to named subscriptions.
struct AdmittedEvent {
  EventPtr event;
  // Subscription ids the event goes to in addition to the matching ones (a policy's
  // `route` action), or instead of them when `routes_only` (a schema's dead letter).
  std::vector<std::string> routes;
  bool routes_only = false;
};

class IngressStage {
 public:
  virtual ~IngressStage() = default;
  virtual bool active() const noexcept = 0;
  // All or nothing: the admitted events (dropped ones left out) in `out`, or an
  // error (Errc::rejected with Error::details listing why; pointer "/<index>" names
  // the event of a batch) and nothing is published.
  virtual Result<void> admit(std::span<const EventPtr> events,
                             std::vector<AdmittedEvent>& out) const = 0;
};

}  // namespace evmesh
