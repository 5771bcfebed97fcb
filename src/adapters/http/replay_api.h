// Admin API of replay (docs/storage.md):
//
//   POST /admin/subscriptions/{id}/replay   {"from": "oldest" | "<RFC 3339 time>"}
//     200 {"id": "...", "from": "...", "offset": N}: the durable subscription's cursor
//         moved to just before offset N; every retained event from N on that it
//         matches is delivered again, in log order.
//
// Errors: 400 (body not a JSON object, `from` missing or not "oldest" or an RFC 3339
// time), 404 (no such subscription), 409 (not durable), 405.
#pragma once

#include <string_view>

#include "server_context.h"

namespace evmesh::http {

constexpr std::string_view kReplaySuffix = "/replay";

// `sub` is the {id} of the path.
Response handle_replay(ServerContext& ctx, Request& req, std::string_view sub);

}  // namespace evmesh::http
