// The HTTP listener of evmeshd: CloudEvents ingress at POST /, the Subscriptions
// API under /subscriptions, /healthz and /readyz. See docs/http.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "evmesh/control/access_control.h"
#include "evmesh/control/config.h"
#include "evmesh/runtime/io_pool.h"
#include "evmesh/runtime/runtime.h"
#include "tls/server_tls.h"

namespace evmesh::http {

class AdminRoutes;

// Authentication and the admin role of a listener (docs/security.md).
struct HttpSecurity {
  std::shared_ptr<control::AccessControl> access;  // null: no authentication
  std::shared_ptr<const AdminRoutes> admin;        // set: serve only this table (admin listener)
  std::vector<std::string> admin_principals;
};

class HttpServer {
 public:
  HttpServer(IoPool& io, control::HttpListenerConfig config, Runtime& runtime,
             const DeliveryPolicy& delivery_defaults, const SinkSpec& sink_defaults,
             HttpSecurity security = {});
  ~HttpServer();

  // Loads the TLS certificate (config.tls), binds and starts accepting. Errors name
  // the address when the bind fails, the key and file when TLS cannot load.
  Result<void> start();
  std::uint16_t port() const;  // the bound port (useful with port 0)
  // The TLS context new connections get, after start(); null for plain TCP. A reload
  // installs a new certificate there (ServerTls::install).
  std::shared_ptr<tls::ServerTls> tls() const;
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
