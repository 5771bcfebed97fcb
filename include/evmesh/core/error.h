// Error values of the data plane. No exceptions cross a data-plane call: functions
// return std::expected<T, Error>. Each adapter maps an Errc to its wire code (HTTP
// status, gRPC status, MQTT reason code) in exactly one function.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace evmesh {

enum class Errc {
  invalid_event,         // a CloudEvent attribute is missing or malformed
  invalid_format,        // the body is not valid for its declared format (bad JSON, ...)
  unsupported_media,     // content type we do not accept
  too_large,             // over a configured size limit
  invalid_subscription,  // a subscription spec is malformed
  not_found,
  conflict,              // e.g. a subscription id that already exists
  limit_reached,         // e.g. max subscriptions
  overloaded,            // a bounded queue is full; retry later
  shutting_down,
  unavailable,           // the event store cannot commit (disk full, unwritable); retry later
  rejected,              // refused by a policy or a schema at ingress; `details` lists why
  unauthenticated,       // no credentials where they are required, or bad ones
  permission_denied,     // authenticated, but an ACL denies the action
  internal,
};

std::string_view to_string(Errc);

struct Error {
  Errc code;
  std::string message;   // human readable, names what is wrong
  std::string pointer;   // which part is wrong: attribute name or JSON path; may be empty
  std::vector<std::string> details;  // e.g. every schema violation; usually empty

  static Error make(Errc c, std::string msg, std::string ptr = {}) {
    return Error{c, std::move(msg), std::move(ptr)};
  }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc c, std::string msg, std::string ptr = {}) {
  return std::unexpected(Error{c, std::move(msg), std::move(ptr)});
}

}  // namespace evmesh
