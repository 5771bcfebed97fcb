// The HTTP listener of evmeshd: CloudEvents ingress at POST /, the Subscriptions
// API under /subscriptions, /healthz and /readyz. See docs/http.md.
#pragma once

#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "evmesh/control/config.h"
#include "evmesh/runtime/runtime.h"

namespace evmesh::http {

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, control::HttpListenerConfig config, Runtime& runtime,
             const DeliveryPolicy& delivery_defaults, const SinkSpec& sink_defaults);
  ~HttpServer();

  // Binds and starts accepting. Error names the address when the bind fails.
  Result<void> start();
  std::uint16_t port() const;  // the bound port (useful with port 0)
  // Stops accepting new connections; open ones finish their current request and
  // then close (no more keep-alive). /readyz answers 503 from here on.
  void stop_accepting();
  // Closes every connection now.
  void close_all();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evmesh::http
