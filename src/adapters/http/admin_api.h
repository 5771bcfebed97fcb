// Admin endpoints under /admin: ask the broker how it would judge an event without
// publishing anything (like EventBridge's TestEventPattern).
//
//   POST /admin/filter/test
//     {"filters": [<filter>, ...], "event": {<CloudEvent, JSON format>}}
//     200 {"matches": true|false}
//     400 problem: a bad filter (pointer "filters[1].any[0].exact"), a bad event
//         (pointer "event.<attribute>"), a body that is not an object with both members.
//
//   POST /admin/cesql/eval
//     {"expression": "<CESQL>", "event": {<CloudEvent>}}
//     200 {"value": 3, "type": "Integer", "errors": [{"kind": "missingAttribute",
//          "message": "..."}]}   (errors do not make it fail: the spec evaluates on)
//     400 problem: a parse error (pointer "expression", extension member "position"
//         when the compiler names one), or a bad event as above.
//
// Stateless and synchronous: runs on the session's strand, touches no subscription.
// Bodies are limited by max_event_bytes like every non-ingress request.
#pragma once

#include <string_view>

#include "server_context.h"

namespace evmesh::http {

// `path` starts with "/admin/". Unknown admin paths are 404, wrong methods 405.
Response handle_admin(ServerContext& ctx, Request& req, std::string_view path);

}  // namespace evmesh::http
