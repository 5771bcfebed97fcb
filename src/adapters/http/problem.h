// Error responses: RFC 9457 problem details (application/problem+json).
//
//   {"type": "urn:evmesh:problem:invalid-event", "title": "Invalid event",
//    "status": 400, "detail": "<Error::message>", "pointer": "/2/source"}
//
// `pointer` is our extension member, present when the error names the offending
// part (a CloudEvents attribute, "/<index>/<attribute>" in a batch, or a
// subscription property path such as "filters[0].exact"). `violations` (an array of
// strings) is present when the error lists several reasons, e.g. every schema
// violation of a rejected event (Error::details). The Errc -> status mapping
// lives in exactly one function, describe().
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>
#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/error.h"
#include "server_context.h"

namespace evmesh::http {

struct ProblemKind {
  boost::beast::http::status status;
  std::string_view type;   // stable suffix of urn:evmesh:problem:
  std::string_view title;
};

// The one place an Errc becomes an HTTP status.
ProblemKind describe(Errc code);

// A problem response for a data-plane error. `overloaded` adds Retry-After: 1.
Response problem_response(const Error& error);
// A problem response for an HTTP-level condition that has no Errc (404 route,
// 405, 431, too many connections, malformed request).
Response problem_response(boost::beast::http::status status, std::string_view type,
                          std::string_view title, std::string detail, std::string pointer = {});

// 405 with an Allow header listing `allow` ("GET, POST").
Response method_not_allowed(const Request& req, std::string_view allow);

Response json_response(boost::beast::http::status status, const nlohmann::json& body);
Response empty_response(boost::beast::http::status status);

inline constexpr std::string_view kProblemUrnPrefix = "urn:evmesh:problem:";
inline constexpr std::string_view kProblemJson = "application/problem+json";

}  // namespace evmesh::http
