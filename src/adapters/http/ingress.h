// CloudEvents ingress: POST / in binary, structured and batch mode.
//
// A batch is all-or-nothing: when any event is invalid (or over max_event_bytes)
// the whole batch is refused and nothing is published; the problem's pointer is
// "/<index>/<attribute>" (or "/<index>" for a size violation). Publishing is also
// all-or-nothing across subscriptions (Runtime::publish): a full queue anywhere
// refuses the request with 503 and Retry-After: 1, after waiting up to
// http.publish_wait for room (publish_wait.h).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "evmesh/control/auth.h"
#include "server_context.h"

namespace evmesh::http {

class Later;

// The body limit for POST / once its header is known: max_batch_bytes for a batch,
// max_event_bytes for anything else (structured, binary, or an unsupported type
// that will be refused with 415 after reading).
BodyLimit ingress_body_limit(const control::HttpListenerConfig& config,
                               const boost::beast::http::fields& fields);

// Publishes when `who` may publish every event's type (ACL), else 403 and nothing is
// published; nullopt when the answer waits for the store's commit (then `later`).
std::optional<Response> handle_ingress(ServerContext& ctx, Request& req,
                                       const control::Principal& who, Later& later);

}  // namespace evmesh::http
