#include "status.h"

namespace evmesh::grpc_adapter {

grpc::StatusCode status_code(Errc code) {
  switch (code) {
    case Errc::invalid_event:
    case Errc::invalid_format:
    case Errc::invalid_subscription:
    case Errc::rejected:
    case Errc::unsupported_media: return grpc::StatusCode::INVALID_ARGUMENT;
    case Errc::too_large:
    case Errc::overloaded:
    case Errc::limit_reached: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Errc::unavailable:
    case Errc::shutting_down: return grpc::StatusCode::UNAVAILABLE;
    case Errc::not_found: return grpc::StatusCode::NOT_FOUND;
    case Errc::conflict: return grpc::StatusCode::ALREADY_EXISTS;
    case Errc::unauthenticated: return grpc::StatusCode::UNAUTHENTICATED;
    case Errc::permission_denied: return grpc::StatusCode::PERMISSION_DENIED;
    case Errc::internal: break;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status to_status(const Error& error) {
  std::string message = error.message;
  if (!error.pointer.empty() && message.find(error.pointer) == std::string::npos)
    message = error.pointer + ": " + message;
  for (const auto& detail : error.details) message += "\n- " + detail;
  return {status_code(error.code), std::move(message)};
}

}  // namespace evmesh::grpc_adapter
