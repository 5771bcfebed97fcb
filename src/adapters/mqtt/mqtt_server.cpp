#include "mqtt_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "connection.h"
#include "mesh_link.h"
#include "transport.h"

namespace evmesh::mqtt {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::shared_ptr<spdlog::logger> mqtt_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("mqtt")) return existing;
  auto logger = spdlog::default_logger()->clone("mqtt");
  spdlog::register_logger(logger);
  return logger;
}

MeshOptions mesh_options(const control::MqttListenerConfig& c) {
  MeshOptions o;
  o.source_prefix = c.source_prefix;
  for (const auto& t : c.topic_types) o.topic_types.push_back({t.filter, t.type});
  o.default_type = c.default_type;
  o.event_topic = c.event_topic;
  o.event_mode = c.event_mode == "structured" ? codec::MqttMode::structured : codec::MqttMode::binary;
  o.event_qos = static_cast<std::uint8_t>(c.event_qos);
  return o;
}

}  // namespace

struct MqttServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(IoPool& io, const control::MqttListenerConfig& config, Runtime& runtime, const control::AccessControl* access)
      : io(io), config(config), acceptor(asio::make_strand(io.main())), retry(acceptor.get_executor()) {
    ctx = std::make_shared<ServerContext>();
    ctx->limits = ConnectionLimits{static_cast<std::uint32_t>(config.max_packet_bytes), config.receive_maximum,
                                   config.topic_alias_maximum, config.connect_timeout, config.max_connections};
    ctx->limits.max_keep_alive = static_cast<std::uint16_t>(  // whole seconds, 1-65535 (config)
        std::chrono::duration_cast<std::chrono::seconds>(config.max_keep_alive).count());
    ctx->broker = std::make_shared<Broker>(
        io.main().get_executor(),
        BrokerLimits{config.max_queued_messages, config.slow_subscriber_timeout,
                     static_cast<std::uint32_t>(
                         std::min<long long>(std::chrono::duration_cast<std::chrono::seconds>(config.max_session_expiry).count(),
                                             0xFFFFFFFE)),
                     config.max_retained_messages},
        access);
    ctx->keepalive = std::make_shared<KeepaliveWheel>(asio::make_strand(io.main()));
    ctx->access = access;
    ctx->log = mqtt_logger();
    mesh = std::make_unique<MeshLink>(runtime, mesh_options(config), ctx->broker);
    ctx->mesh = mesh.get();
  }

  void do_accept() {
    acceptor.async_accept(asio::make_strand(io.next()), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                              tcp::socket socket) {
      self->on_accept(ec, std::move(socket));
    });
  }

  void on_accept(const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      ctx->log->warn("accept failed: {}; retrying in 100ms", ec.message());
      retry.expires_after(std::chrono::milliseconds(100));
      retry.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
        if (!wait_ec && self->acceptor.is_open()) self->do_accept();
      });
      return;
    }
    if (ctx->connections.load() >= ctx->limits.max_connections) {
      ctx->log->warn("refusing a connection: max_connections ({}) reached", ctx->limits.max_connections);
      boost::system::error_code ignored;
      socket.close(ignored);
    } else if (tls) {
      handshake(std::move(socket));
    } else {
      serve(Transport(std::move(socket)));
    }
    do_accept();
  }

  // TLS first (mqtt.tls), within connect_timeout; a failed handshake just closes.
  // Handshakes in progress count towards max_connections.
  void handshake(tcp::socket socket) {
    // The stream and its deadline, on the connection's strand; `done` tells a late
    // timer that the handshake already finished.
    struct Pending {
      std::unique_ptr<Transport::Tls> stream;
      asio::steady_timer deadline;
      bool done = false;
    };
    auto context = tls->context();
    auto executor = socket.get_executor();
    auto p = std::make_shared<Pending>(Pending{std::make_unique<Transport::Tls>(std::move(socket), *context),
                                               asio::steady_timer(executor, ctx->limits.connect_timeout)});
    ++ctx->connections;
    p->deadline.async_wait([p](const boost::system::error_code& ec) {
      if (ec || p->done) return;
      boost::system::error_code ignored;
      p->stream->next_layer().close(ignored);  // the handshake then fails
    });
    p->stream->async_handshake(asio::ssl::stream_base::server, [self = shared_from_this(), p, context](
                                                                   const boost::system::error_code& ec) mutable {
      p->done = true;
      p->deadline.cancel();
      --self->ctx->connections;
      if (ec) return self->ctx->log->debug("TLS handshake failed: {}", ec.message());
      auto peer = tls::peer_certificate(p->stream->native_handle());
      self->serve(Transport(std::move(p->stream), std::move(context), std::move(peer)));
    });
  }

  void serve(Transport transport) {
    auto conn = std::make_shared<Connection>(std::move(transport), ctx);
    {
      std::lock_guard lock(ctx->registry_mutex);
      if (ctx->registry.size() > 64 && ctx->registry.size() > 2 * ctx->connections.load())
        std::erase_if(ctx->registry, [](const auto& w) { return w.expired(); });
      ctx->registry.push_back(conn);
    }
    conn->start();
  }

  IoPool& io;  // a connection lives on the loop it is accepted onto
  control::MqttListenerConfig config;
  std::shared_ptr<ServerContext> ctx;
  std::unique_ptr<MeshLink> mesh;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  std::atomic<std::uint16_t> port{0};
  std::shared_ptr<tls::ServerTls> tls;  // null: plain TCP
};

MqttServer::MqttServer(IoPool& io, const control::MqttListenerConfig& config, Runtime& runtime,
                       const control::AccessControl* access)
    : impl_(std::make_shared<Impl>(io, config, runtime, access)) {}

MqttServer::~MqttServer() = default;

SinkFactory& MqttServer::sinks() { return impl_->mesh->sinks(); }

Result<void> MqttServer::start() {
  if (impl_->config.tls.enabled()) {
    auto tls = tls::ServerTls::make(impl_->config.tls, "mqtt.tls");
    if (!tls) return std::unexpected(tls.error());
    impl_->tls = std::move(*tls);
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->config.host, ec);
  if (ec) return fail(Errc::internal, "mqtt.host '" + impl_->config.host + "' is not an IP address: " + ec.message());
  tcp::endpoint endpoint(address, impl_->config.port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(Errc::internal, "cannot listen on " + impl_->config.host + ":" + std::to_string(impl_->config.port) +
                                    ": " + ec.message());
  auto local = a.local_endpoint(ec);
  impl_->port = local.port();
  impl_->ctx->log->info("mqtt listener on {}:{}{}", local.address().to_string(), local.port(),
                        !impl_->tls                                 ? ""
                        : impl_->config.tls.client_ca_file.empty() ? " (TLS)"
                                                                    : " (TLS, client certificates)");
  asio::dispatch(a.get_executor(), [impl = impl_] { impl->do_accept(); });
  return {};
}

Result<void> MqttServer::link_mesh(const DeliveryPolicy& delivery) { return impl_->mesh->subscribe(delivery); }

std::uint16_t MqttServer::port() const { return impl_->port; }

std::shared_ptr<tls::ServerTls> MqttServer::tls() const { return impl_->tls; }

void MqttServer::stop_accepting() {
  impl_->ctx->stopping = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    impl->retry.cancel();
  });
}

void MqttServer::close_all() {
  impl_->ctx->keepalive->stop();
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(impl_->ctx->registry_mutex);
    for (auto& w : impl_->ctx->registry)
      if (auto c = w.lock()) live.push_back(std::move(c));
    impl_->ctx->registry.clear();
  }
  for (auto& c : live) c->shut_down();
}

}  // namespace evmesh::mqtt
