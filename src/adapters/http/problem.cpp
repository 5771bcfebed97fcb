#include "problem.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace evmesh::http {

namespace bh = boost::beast::http;

ProblemKind describe(Errc code) {
  switch (code) {
    case Errc::invalid_event: return {bh::status::bad_request, "invalid-event", "Invalid CloudEvent"};
    case Errc::invalid_format: return {bh::status::bad_request, "invalid-format", "Malformed request body"};
    case Errc::unsupported_media:
      return {bh::status::unsupported_media_type, "unsupported-media-type", "Unsupported media type"};
    case Errc::too_large: return {bh::status::payload_too_large, "too-large", "Payload too large"};
    case Errc::invalid_subscription:
      return {bh::status::bad_request, "invalid-subscription", "Invalid subscription"};
    case Errc::not_found: return {bh::status::not_found, "not-found", "Not found"};
    case Errc::conflict: return {bh::status::conflict, "conflict", "Conflict"};
    // A client can fix this by deleting subscriptions: a conflict with the current
    // state of the server, not a storage failure (507).
    case Errc::limit_reached: return {bh::status::conflict, "limit-reached", "Limit reached"};
    case Errc::overloaded: return {bh::status::service_unavailable, "overloaded", "Overloaded, retry later"};
    case Errc::shutting_down: return {bh::status::service_unavailable, "shutting-down", "Shutting down"};
    case Errc::unavailable:
      return {bh::status::service_unavailable, "store-unavailable", "Event store unavailable"};
    case Errc::rejected: return {bh::status::bad_request, "rejected", "Rejected by a policy or schema"};
    case Errc::unauthenticated: return {bh::status::unauthorized, "unauthenticated", "Unauthenticated"};
    case Errc::permission_denied: return {bh::status::forbidden, "permission-denied", "Permission denied"};
    case Errc::internal: break;
  }
  return {bh::status::internal_server_error, "internal", "Internal server error"};
}

Response problem_response(bh::status status, std::string_view type, std::string_view title,
                          std::string detail, std::string pointer) {
  nlohmann::json body = {
      {"type", std::string(kProblemUrnPrefix) + std::string(type)},
      {"title", title},
      {"status", static_cast<unsigned>(status)},
      {"detail", std::move(detail)},
  };
  if (!pointer.empty()) body["pointer"] = std::move(pointer);
  Response res{status, 11};
  res.set(bh::field::content_type, kProblemJson);
  // Invalid UTF-8 in a detail (echoed input) must not throw: replace it.
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

Response problem_response(const Error& error) {
  const auto kind = describe(error.code);
  auto res = problem_response(kind.status, kind.type, kind.title, error.message, error.pointer);
  if (!error.details.empty()) {  // e.g. every schema violation, as an extension member
    auto body = nlohmann::json::parse(res.body());
    body["violations"] = error.details;
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (error.code == Errc::overloaded || error.code == Errc::unavailable) res.set(bh::field::retry_after, "1");
  if (error.code == Errc::unauthenticated) res.set(bh::field::www_authenticate, "Bearer realm=\"evmesh\"");
  return res;
}

Response method_not_allowed(const Request& req, std::string_view allow) {
  auto res = problem_response(bh::status::method_not_allowed, "method-not-allowed",
                              "Method not allowed",
                              fmt::format("{} is not allowed on {}; allowed: {}",
                                          std::string_view(req.method_string()),
                                          std::string_view(req.target()), allow));
  res.set(bh::field::allow, allow);
  return res;
}

Response json_response(bh::status status, const nlohmann::json& body) {
  Response res{status, 11};
  res.set(bh::field::content_type, "application/json");
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

Response empty_response(bh::status status) { return Response{status, 11}; }

}  // namespace evmesh::http
