// Publishing with backpressure, for every publish RPC (Publish, PublishBatch,
// PublishStream). Runtime::publish is all-or-nothing and never blocks: a full
// subscription queue answers `overloaded`. publish_admitted() then tries again,
// pausing 1 ms, doubling up to 32 ms, on the runtime's executor (a gRPC thread never
// sleeps), until
//   the events are admitted                          -> OK with the receipt
//   grpc.publish_wait has passed                     -> RESOURCE_EXHAUSTED
//   the call's deadline passes first                 -> DEADLINE_EXCEEDED
//   the client cancels                               -> CANCELLED
//   the listener shuts down                          -> UNAVAILABLE
// A publish that failed is never tried again later: no event lands after its caller
// was told it failed. (Polling, because the runtime has no "space again" signal; one
// attempt costs one routing probe.)
#pragma once

#include <functional>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "service_context.h"

namespace evmesh::grpc_adapter {

using PublishDone = std::function<void(grpc::Status, PublishReceipt)>;

// Any gRPC thread. `done` runs exactly once: inline when the first attempt decides,
// else on the runtime's executor. `call` must stay valid until then (the caller
// finishes its reactor from `done`).
void publish_admitted(ServiceContext& ctx, grpc::CallbackServerContext* call,
                      std::vector<EventPtr> events, PublishDone done);

// Ends every publish still waiting with UNAVAILABLE, at once, on the calling thread:
// the listener is shutting down and the runtime's executor may stop before their
// next attempt. Call after setting ctx.stopping.
void abort_waiting_publishes(ServiceContext& ctx);

}  // namespace evmesh::grpc_adapter
