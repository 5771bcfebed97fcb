// Minimal absolute http:// URL parsing for sinks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "evmesh/core/error.h"

namespace evmesh::http {

struct Url {
  std::string scheme;  // "http" (https is refused until TLS lands)
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 80;
  std::string target;  // path + query, at least "/"
  std::string host_header() const;  // host[:port] as sent in Host
};

// Errors are invalid_subscription with a message naming what is wrong
// ("sink: scheme 'ftp' is not supported", "sink: port out of range", ...).
Result<Url> parse_url(std::string_view text);

}  // namespace evmesh::http
