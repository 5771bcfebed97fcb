// A webhook sink's validated, immutable configuration, shared by its exchanges and
// its pipeline.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "adapters/http/url.h"
#include "adapters/http/webhook_sink.h"
#include "evmesh/codec/http_binding.h"

namespace evmesh::http {

struct WebhookConfig {
  Url url;
  std::string authority;  // "host:port" ("[::1]:8080") for error messages
  boost::beast::http::verb method = boost::beast::http::verb::post;
  std::vector<std::pair<std::string, std::string>> headers;
  codec::HttpMode mode = codec::HttpMode::binary;
  std::chrono::milliseconds timeout{10'000};
  std::size_t concurrency = 1;  // SinkSpec::concurrency: sizes the idle connection pool
  WebhookOptions options;
  // Request line and the fields every request carries (Host, User-Agent, the
  // subscription's headers, Connection), CRLF-terminated: built once, copied per event.
  std::string request_head;
};

}  // namespace evmesh::http
