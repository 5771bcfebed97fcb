// The CloudEvents Subscriptions API under /subscriptions.
//
//   POST   /subscriptions        201 + Location + object (an `id` in the body is ignored)
//   GET    /subscriptions        200 + array of objects
//   GET    /subscriptions/{id}   200 + object, 404
//   PUT    /subscriptions/{id}   200 + replaced object, 404; a body `id` must match
//   DELETE /subscriptions/{id}   204, 404
//
// Bodies are parsed by control::parse_subscription with the server's delivery and
// sink defaults; its errors carry the property path as the problem's pointer.
// A created or replaced subscription is owned by the caller (`who`): it receives only
// events its owner may subscribe to, and one that can only match denied types is
// refused with 403 (docs/security.md).
#pragma once

#include <string_view>

#include "evmesh/control/auth.h"
#include "server_context.h"

namespace evmesh::http {

Response handle_subscriptions(ServerContext& ctx, Request& req,  // collection
                              const control::Principal& who);
Response handle_subscription(ServerContext& ctx, Request& req, std::string_view id,  // one
                             const control::Principal& who);

}  // namespace evmesh::http
