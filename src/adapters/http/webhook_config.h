// A webhook sink's validated, immutable configuration, shared by its exchanges and
// its pipeline, and the request type they send.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
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
  WebhookOptions options;
};

using WebhookRequest = boost::beast::http::request<boost::beast::http::string_body>;

}  // namespace evmesh::http
