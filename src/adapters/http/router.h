// Request dispatch: path + method -> handler. Handlers run on the connection's
// strand, synchronously (Runtime calls never block on I/O).
//
//   /                      POST            ingress.cpp
//   /subscriptions[/{id}]  see subscriptions_api.h
//   /admin/subscriptions/{id}/deadletters...  dlq_api.h (durable dead-letter queues)
//   /admin/subscriptions/{id}/replay          replay_api.h; both need an admin
//                                             principal (subscription_admin.h)
//   /admin/...             POST            admin_api.h (filter test, CESQL eval)
//   /healthz               GET             200 {"status":"ok"} while the process runs
//   /readyz                GET             200 {"status":"ready"}; 503 after stop_accepting()
//   anything else          404 problem
//
// Authentication (when ctx.access is set): every request but /healthz and /readyz
// carries credentials (control/auth.h) or is refused with 401; the principal is
// passed on (publish ACL, subscription owner). An admin listener (ctx.admin set)
// serves its route table instead, to admin.principals only (403 for others).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include "evmesh/control/auth.h"
#include "server_context.h"

namespace evmesh::http {

// Lets a handler answer after it returned (a publish waiting for the store's group
// commit, or for room in a full queue): take() once; the function it gives answers
// from any thread, once.
class Later {
 public:
  virtual ~Later() = default;
  virtual std::function<void(Response)> take() = 0;
  // The connection's executor, for timers of a handler that waits.
  virtual boost::asio::any_io_executor executor() const = 0;
};

// The response, or nullopt when the handler took `later` and answers through it.
// May throw (e.g. std::bad_alloc); the session turns that into a 500.
// `peer`: the verified TLS client certificate, empty without one. nullopt when the
// answer waits for the store's commit (then `later`).
std::optional<Response> route(ServerContext& ctx, Request& req, const control::PeerCertificate& peer,
                              Later& later);

// The body limit for a request whose header has been read.
BodyLimit body_limit_for(const ServerContext& ctx, boost::beast::http::verb method,
                           std::string_view target, const boost::beast::http::fields& fields);

// The path of a request target without its query; percent-escapes decoded
// (nullopt when an escape is malformed).
std::optional<std::string> target_path(std::string_view target);

}  // namespace evmesh::http
