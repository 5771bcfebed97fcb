// Admin API of durable subscriptions' dead-letter queues (docs/storage.md):
//
//   GET    /admin/subscriptions/{id}/deadletters[?after=N&limit=M]
//            200 {"deadletters": [{"id": 7, "event": {<CloudEvent, JSON format>}}, ...],
//                 "next": 7 | null}     (next: pass as ?after= for the following page)
//   GET    /admin/subscriptions/{id}/deadletters/{n}     200 {"id": n, "event": {...}}
//   DELETE /admin/subscriptions/{id}/deadletters/{n}     204
//   POST   /admin/subscriptions/{id}/deadletters/{n}/redrive
//            202 {"id": n}: delivered again; it leaves the queue when the sink acks
//
// Errors: 404 (no such subscription or dead letter), 409 (not durable), 400 (bad
// id, after or limit: a decimal integer; limit 1-1000, default 100), 405.
#pragma once

#include <string_view>

#include "server_context.h"

namespace evmesh::http {

constexpr std::string_view kDeadLetterPrefix = "/admin/subscriptions/";

// `path` starts with kDeadLetterPrefix.
Response handle_dead_letters(ServerContext& ctx, Request& req, std::string_view path);

}  // namespace evmesh::http
