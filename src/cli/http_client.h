// evmeshctl's HTTP client: one synchronous request per call on a fresh connection
// to evmeshd's HTTP or admin listener, over plain TCP (http://) or TLS (https://: the
// server's certificate is verified against --cacert or the system's CAs and must name
// the host; --cert/--key present a client certificate for mTLS).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "evmesh/core/error.h"

namespace evmesh::cli {

struct Endpoint {
  std::string host;
  std::uint16_t port = 80;
  std::string base;  // path prefix without a trailing '/', usually empty
  std::string authorization;  // Authorization header value ("Bearer <token>"); empty: none
  bool tls = false;           // https://
  std::string ca_file;        // PEM CAs to trust; empty: the system's
  std::string cert_file, key_file;  // PEM client certificate and key; empty: none
};

// "http://host[:port][/base]" or "https://..." (default port 443). Errors name what is wrong.
Result<Endpoint> parse_endpoint(std::string_view url);

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// Sends `method path` (path is appended to the endpoint's base) with an optional JSON
// body. Transport failures (refused, timeout, malformed reply) are errors; any HTTP
// status is a reply.
Result<HttpReply> send(const Endpoint& to, std::string_view method, std::string_view path,
                       const std::string* json_body = nullptr,
                       std::chrono::seconds timeout = std::chrono::seconds(10),
                       std::string_view content_type = "application/json");

}  // namespace evmesh::cli
