#include "daemon.h"

#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "adapters/http/http_server.h"
#include "adapters/http/webhook_sink.h"
#include "evmesh/runtime/runtime.h"

namespace evmesh::daemon {
namespace asio = boost::asio;

int run(const control::Config& config) {
  const unsigned threads =
      config.runtime.threads ? config.runtime.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  auto work = asio::make_work_guard(io);

  http::WebhookSinkFactory sinks(io.get_executor(),
                                 {config.webhook.max_idle_connections_per_sink,
                                  config.webhook.connect_timeout});
  Runtime runtime(io.get_executor(), {config.runtime.max_subscriptions}, sinks);
  for (const auto& sub : config.subscriptions) {
    if (auto created = runtime.create(sub); !created) {
      spdlog::error("{}: subscription '{}': {}{}", config.file.string(), sub.id,
                    created.error().pointer.empty() ? "" : created.error().pointer + ": ",
                    created.error().message);
      return 1;
    }
  }

  http::HttpServer server(io, config.http, runtime, config.delivery, config.sink_defaults);
  if (auto started = server.start(); !started) {
    spdlog::error("cannot start the HTTP listener: {}", started.error().message);
    return 1;
  }
  spdlog::info("evmeshd started: {} threads, {} subscriptions", threads,
               config.subscriptions.size());

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](auto ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: stopping; draining deliveries for up to {} ms", signo,
                 config.runtime.drain_timeout.count());
    server.stop_accepting();
    runtime.shutdown(config.runtime.drain_timeout, [&](bool drained) {
      if (drained)
        spdlog::info("all deliveries drained");
      else
        spdlog::warn("drain timeout reached; undelivered events were dropped");
      server.close_all();
      work.reset();
      // Let the posted socket closes run first, then end the pool.
      asio::post(io, [&io] { io.stop(); });
    });
  });

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  spdlog::info("evmeshd stopped");
  return 0;
}

}  // namespace evmesh::daemon
