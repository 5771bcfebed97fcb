// Reading a JSON request body (Subscriptions API, admin API).
#pragma once

#include <nlohmann/json.hpp>

#include "evmesh/core/error.h"
#include "server_context.h"

namespace evmesh::http {

// The body as a JSON object. A declared non-JSON Content-Type is unsupported_media
// (415); bad JSON or another JSON value is invalid_format (400).
Result<nlohmann::json> json_object_body(const Request& req);

}  // namespace evmesh::http
