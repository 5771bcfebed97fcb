// A publish that found a subscription queue full waits for room (http.publish_wait)
// instead of being refused at once: it tries again after 1, 2, 4 ... 32 ms, and
// answers 202 once every matching queue takes it, or the last 503 (with
// Retry-After) when the wait is over. The connection reads nothing meanwhile, so a
// publisher faster than the deliveries is slowed by TCP instead of by refusals it
// must resend. A waiting publish holds only its own events, and a connection has at
// most one: memory stays bounded by http.max_connections.
#pragma once

#include <functional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "evmesh/core/error.h"
#include "evmesh/core/event.h"
#include "server_context.h"

namespace evmesh::http {

// The completion of a publish that waits for the store's commit (a durable
// subscription matched): `reply` gets 202 once committed, else the problem.
Runtime::PublishCallback reply_when_committed(std::function<void(Response)> reply);

// Starts the wait; `reply` (any thread, once) gets the answer. `overloaded` is the
// refusal that started it, answered as is when the wait is over.
void wait_for_room(ServerContext& ctx, boost::asio::any_io_executor ex, std::vector<EventPtr> events,
                   Error overloaded, std::function<void(Response)> reply);

}  // namespace evmesh::http
