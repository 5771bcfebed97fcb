// Webhook sink: delivers events as HTTP/1.1 POSTs (binary mode by default,
// structured when the subscription asks) with a Beast client.
//
// One WebhookSink per subscription sink; connections to the same host:port are kept
// alive in a pool (bounded idle count) and reused. Each attempt has a deadline
// (connect + write + response = SinkSpec::timeout). Outcome mapping:
//   2xx -> delivered; 408, 429, 5xx, timeout, refused/reset -> retry (Retry-After
//   parsed as seconds or an HTTP-date); any other status -> permanent.
// Concurrency and ordering are the dispatcher's job: the sink runs every send()
// it is given at once. send_ordered() goes through one pipelined connection when
// WebhookOptions::pipeline_depth > 1.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "evmesh/core/sink.h"

namespace evmesh::http {

struct WebhookOptions {
  std::size_t max_idle_connections = 16;
  std::chrono::milliseconds connect_timeout{5'000};
  std::size_t max_response_bytes = 64 << 10;  // we read and discard the body
  // In-order deliveries in flight on one connection (HTTP/1.1 pipelining, see
  // webhook_pipeline.h); 1 = one request at a time.
  std::size_t pipeline_depth = 1;
};

class WebhookSinkFactory final : public SinkFactory {
 public:
  WebhookSinkFactory(boost::asio::any_io_executor ex, WebhookOptions options);
  Result<std::shared_ptr<Sink>> make(const SinkSpec& spec) override;

 private:
  boost::asio::any_io_executor ex_;
  WebhookOptions options_;
};

}  // namespace evmesh::http
