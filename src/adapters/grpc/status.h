// The one place where evmesh errors become gRPC status codes.
//   invalid_event, invalid_format, invalid_subscription, unsupported_media -> INVALID_ARGUMENT
//   too_large, overloaded, limit_reached                                  -> RESOURCE_EXHAUSTED
//   shutting_down -> UNAVAILABLE, not_found -> NOT_FOUND, conflict -> ALREADY_EXISTS,
//   internal -> INTERNAL
// The status message is the error's message, prefixed with the attribute or JSON
// property it names when the message does not already mention it.
#pragma once

#include <grpcpp/support/status.h>

#include "evmesh/core/error.h"

namespace evmesh::grpc_adapter {

grpc::StatusCode status_code(Errc code);
grpc::Status to_status(const Error& error);

}  // namespace evmesh::grpc_adapter
