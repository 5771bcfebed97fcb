#include "evmesh/core/error.h"

namespace evmesh {

std::string_view to_string(Errc c) {
  switch (c) {
    case Errc::invalid_event: return "invalid_event";
    case Errc::invalid_format: return "invalid_format";
    case Errc::unsupported_media: return "unsupported_media";
    case Errc::too_large: return "too_large";
    case Errc::invalid_subscription: return "invalid_subscription";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::limit_reached: return "limit_reached";
    case Errc::overloaded: return "overloaded";
    case Errc::shutting_down: return "shutting_down";
    case Errc::unavailable: return "unavailable";
    case Errc::rejected: return "rejected";
    case Errc::unauthenticated: return "unauthenticated";
    case Errc::permission_denied: return "permission_denied";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace evmesh
