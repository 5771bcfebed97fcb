// State shared by the HTTP listener and its sessions: the immutable listener config,
// the runtime, the subscription defaults and the `accepting` flag. Owned by
// shared_ptr (the server and every live session), so a session never outlives it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>


#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <spdlog/logger.h>

#include "evmesh/control/access_control.h"
#include "evmesh/control/config.h"
#include "evmesh/runtime/runtime.h"
#include "tls/server_tls.h"

namespace evmesh::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// A request body limit and the config key it comes from (named in 413 problems).
struct BodyLimit {
  std::size_t bytes;
  std::string_view name;
};

class AdminRoutes;

struct ServerContext {
  ServerContext(control::HttpListenerConfig c, Runtime& r, DeliveryPolicy d, SinkSpec s,
                std::shared_ptr<spdlog::logger> l)
      : config(std::move(c)), runtime(r), delivery_defaults(std::move(d)),
        sink_defaults(std::move(s)), log(std::move(l)) {}

  const control::HttpListenerConfig config;
  Runtime& runtime;
  const DeliveryPolicy delivery_defaults;
  const SinkSpec sink_defaults;
  const std::shared_ptr<spdlog::logger> log;

  // Set before start() (docs/security.md). access null: no authentication at all.
  std::shared_ptr<control::AccessControl> access;
  std::shared_ptr<tls::ServerTls> tls;              // null: plain TCP
  std::shared_ptr<const AdminRoutes> admin;         // set: this is the admin listener
  std::vector<std::string> admin_principals;        // who may use it ("*": anyone authenticated)

  std::atomic<bool> accepting{true};        // false after stop_accepting()
  std::atomic<std::size_t> connections{0};  // sessions serving requests
  std::atomic<std::uint64_t> next_connection_id{1};
};

// The logger named "http": the registered one when the daemon made it, otherwise a
// clone of the default logger (same sinks and pattern) registered under that name.
std::shared_ptr<spdlog::logger> http_logger();

}  // namespace evmesh::http
