#include "daemon.h"

#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "adapters/grpc/group_sink.h"
#include "adapters/grpc/grpc_server.h"
#include "adapters/http/admin_routes.h"
#include "adapters/http/admin_security.h"
#include "adapters/http/http_server.h"
#include "adapters/http/subscription_admin.h"
#include "adapters/http/webhook_sink.h"
#include "adapters/mqtt/mqtt_server.h"
#include "adapters/mqtt_bridge/bridges.h"
#include "evmesh/control/control_plane.h"
#include "evmesh/control/access_control.h"
#include "evmesh/control/effective_config.h"
#include "evmesh/runtime/runtime.h"
#include "evmesh/runtime/io_pool.h"
#include "adapters/http/policy_admin.h"
#include "evmesh/control/saved_subscription.h"
#include "reloader.h"
#include "saved_subscriptions.h"

namespace evmesh::daemon {
namespace asio = boost::asio;

namespace {

// Routes each subscription's sink by protocol: "GRPC" (grpc-group:NAME) to the gRPC
// adapter's consumer groups, "MQTT" (mqtt://BRIDGE/TOPIC) to the MQTT bridges,
// everything else to webhooks.
class SinkRouter final : public SinkFactory {
 public:
  SinkRouter(SinkFactory& webhooks, SinkFactory& groups, SinkFactory& bridges)
      : webhooks_(webhooks), groups_(groups), bridges_(bridges) {}
  Result<std::shared_ptr<Sink>> make(const SinkSpec& spec) override {
    if (spec.protocol == mqtt::kListenerProtocol) {
      if (!mqtt_listener) return fail(Errc::invalid_subscription, "the MQTT listener is not enabled", "sink");
      return mqtt_listener->make(spec);
    }
    if (spec.protocol == "MQTT") return bridges_.make(spec);
    return spec.protocol == "GRPC" ? groups_.make(spec) : webhooks_.make(spec);
  }

 private:
  SinkFactory& webhooks_;
  SinkFactory& groups_;
  SinkFactory& bridges_;

 public:
  SinkFactory* mqtt_listener = nullptr;  // set once the MQTT listener exists
};

}  // namespace

int run(const control::Config& config, control::Overrides overrides) {
  const unsigned threads =
      config.runtime.threads ? config.runtime.threads : std::max(1u, std::thread::hardware_concurrency());
  IoPool loops(threads);
  auto& io = loops.main();
  // Deliveries run on their own event loop: on one shared queue every hop of a
  // delivery waited behind every pending publish (docs/benchmarks.md).
  asio::io_context delivery_io(static_cast<int>(config.runtime.delivery_threads));
  auto delivery_work = asio::make_work_guard(delivery_io);
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < config.runtime.delivery_threads; ++i)
    pool.emplace_back([&] { delivery_io.run(); });
  auto stop_delivery = [&] {
    delivery_work.reset();
    delivery_io.stop();
    for (auto& t : pool) t.join();
    pool.clear();
  };

  http::WebhookSinkFactory sinks(delivery_io.get_executor(),
                                 {.max_idle_connections = config.webhook.max_idle_connections_per_sink,
                                  .connect_timeout = config.webhook.connect_timeout,
                                  .pipeline_depth = config.webhook.pipeline_depth});
  grpc_adapter::GroupRegistry groups;
  auto bridges = mqtt_bridge::MqttBridges::create(delivery_io.get_executor(), config.mqtt_bridges);
  if (!bridges) {
    spdlog::error("{}", bridges.error().message);
    stop_delivery();
    return 1;
  }
  SinkRouter router(sinks, groups, **bridges);
  RuntimeOptions runtime_options{.max_subscriptions = config.runtime.max_subscriptions};
  runtime_options.open_store = [&config] {
    return store::open_embedded_store(
        {config.store.data_dir, config.store.commit, config.store.sync_interval});
  };
  runtime_options.store_retention = config.store.retention;
  runtime_options.store_retention_bytes = config.store.retention_bytes;
  runtime_options.dedup_window = config.dedup.window;
  runtime_options.dedup_max_keys = config.dedup.max_keys;
  runtime_options.encode_saved = control::encode_saved_subscription;
  Runtime runtime(delivery_io.get_executor(), std::move(runtime_options), router);
  // Policies and schemas (docs/policies.md): every publish passes the pipeline.
  control::ControlPlane plane;
  if (auto ok = plane.apply(config); !ok) {
    spdlog::error("{}: {}", config.file.string(), ok.error().message);
    stop_delivery();
    return 1;
  }
  plane.record({0, true, "", "", 0, "start", control::now_rfc3339(), {}});
  runtime.set_ingress_stage(plane.stage());
  // Saved API subscriptions first, then YAML; the log keeps every backlog until all
  // exist. An id taken by a saved API subscription is not created from YAML (as on
  // reload): the API subscription keeps it until deleted (docs/storage.md).
  runtime.hold_trim(true);
  auto restored = restore_saved_subscriptions(runtime, config);
  if (!restored) {
    spdlog::error("cannot restore the saved subscriptions: {}", restored.error().message);
    stop_delivery();
    return 1;
  }
  for (const auto& sub : config.subscriptions) {
    if (restored->contains(sub.id)) {
      spdlog::warn("{}: subscription '{}' not created: an API subscription restored from the "
                   "store has this id (delete it through the API, then reload)",
                   config.file.string(), sub.id);
      continue;
    }
    if (auto created = runtime.create(sub); !created) {
      spdlog::error("{}: subscription '{}': {}{}", config.file.string(), sub.id,
                    created.error().pointer.empty() ? "" : created.error().pointer + ": ",
                    created.error().message);
      stop_delivery();
      return 1;
    }
  }
  runtime.hold_trim(false);

  // Authentication and ACLs (docs/security.md), shared by every listener and routing.
  auto access = control::AccessControl::make(config.auth, config.acl);
  if (!access) {  // load_config validated the same rules; this is a safety net
    spdlog::error("{}: {}: {}", config.file.string(), access.error().pointer, access.error().message);
    stop_delivery();
    return 1;
  }
  runtime.set_delivery_guard(*access);
  TlsRotation certificates;  // the TLS listeners, once started: a reload renews their certificates
  Reloader reloader(io, config, std::move(overrides), runtime, plane, *access, &certificates);  // started below

  http::HttpServer server(loops, config.http, runtime, config.delivery, config.sink_defaults,
                          {*access, nullptr, config.admin.principals});  // dead letters, replay
  if (auto started = server.start(); !started) {
    spdlog::error("cannot start the HTTP listener: {}", started.error().message);
    stop_delivery();
    return 1;
  }
  certificates.add(server.tls(), [](const control::Config& c) -> const control::TlsConfig& { return c.http.tls; });
  std::optional<mqtt::MqttServer> mqtt_server;
  if (config.mqtt.enabled) {
    mqtt_server.emplace(loops, config.mqtt, runtime, access->get());
    router.mqtt_listener = &mqtt_server->sinks();
    auto started = mqtt_server->start();
    if (started) started = mqtt_server->link_mesh(config.delivery);
    if (!started) {
      spdlog::error("cannot start the MQTT listener: {}", started.error().message);
      server.close_all();
      stop_delivery();
      return 1;
    }
    certificates.add(mqtt_server->tls(),
                     [](const control::Config& c) -> const control::TlsConfig& { return c.mqtt.tls; });
  }
  std::optional<grpc_adapter::GrpcServer> grpc_server;
  if (config.grpc.enabled) {
    grpc_server.emplace(io.get_executor(), config.grpc, runtime, groups, config.delivery,
                        config.sink_defaults, *access);
    if (auto started = grpc_server->start(); !started) {
      spdlog::error("cannot start the gRPC listener: {}", started.error().message);
      server.close_all();
      stop_delivery();
      return 1;
    }
  }
  (*bridges)->start(runtime);
  // The admin listener: its own port, admin.principals only (docs/security.md).
  std::optional<http::HttpServer> admin_server;
  if (config.admin.enabled()) {
    auto routes = std::make_shared<http::AdminRoutes>();
    http::add_security_routes(*routes, {*access, [&reloader] { return reloader.effective_config(); }});
    http::add_policy_routes(*routes, plane, [&reloader](const std::string& why) { reloader.reload(why); });
    http::add_subscription_admin_routes(*routes);
    control::HttpListenerConfig listener;
    listener.host = config.admin.host;
    listener.port = config.admin.port;
    listener.tls = config.admin.tls;
    admin_server.emplace(loops, listener, runtime, config.delivery, config.sink_defaults,
                         http::HttpSecurity{*access, routes, config.admin.principals});
    if (auto started = admin_server->start(); !started) {
      spdlog::error("cannot start the admin listener: {}", started.error().message);
      if (grpc_server) grpc_server->begin_shutdown(std::chrono::milliseconds(0));
      server.close_all();
      stop_delivery();
      if (grpc_server) grpc_server->wait();
      return 1;
    }
    certificates.add(admin_server->tls(),
                     [](const control::Config& c) -> const control::TlsConfig& { return c.admin.tls; });
  }
  spdlog::info("evmeshd started: {} threads, {} delivery threads, {} subscriptions", threads,
               config.runtime.delivery_threads, runtime.list().size());

  reloader.start();

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](auto ec, int signo) {
    if (ec) return;
    reloader.stop();
    spdlog::info("signal {}: stopping; draining deliveries for up to {} ms", signo,
                 config.runtime.drain_timeout.count());
    // Reverse order of start: gRPC first (its streams end, its calls get a short
    // grace), then HTTP; consumer groups give up what no stream can take any more.
    if (mqtt_server) mqtt_server->stop_accepting();
    if (grpc_server) grpc_server->begin_shutdown(std::chrono::milliseconds(1000));
    groups.shutdown();
    (*bridges)->stop_ingest();  // the external brokers queue for our sessions meanwhile
    server.stop_accepting();
    if (admin_server) admin_server->stop_accepting();
    runtime.shutdown(config.runtime.drain_timeout, [&](bool drained) {
      if (drained)
        spdlog::info("all deliveries drained");
      else
        spdlog::warn("drain timeout reached; undelivered events were dropped");
      server.close_all();
      if (mqtt_server) mqtt_server->close_all();
      (*bridges)->stop();
      if (admin_server) admin_server->close_all();
      loops.stop();  // after the socket closes posted above
    });
  });

  loops.run();
  stop_delivery();
  if (grpc_server) grpc_server->wait();
  spdlog::info("evmeshd stopped");
  return 0;
}

}  // namespace evmesh::daemon
