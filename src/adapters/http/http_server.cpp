#include "http_server.h"

#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "problem.h"
#include "server_context.h"
#include "session.h"
#include "tls/server_tls.h"

namespace evmesh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

std::shared_ptr<spdlog::logger> http_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("http")) return existing;
  auto logger = spdlog::default_logger()->clone("http");
  spdlog::register_logger(logger);
  return logger;
}

// Lives on the acceptor's strand (accept loop) and is shared with pending handlers,
// so it outlives the HttpServer object while an accept is in flight.
struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(IoPool& io, std::shared_ptr<ServerContext> ctx)
      : io(io), ctx(std::move(ctx)), acceptor(net::make_strand(io.main())), retry(acceptor.get_executor()) {}

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void track(const std::shared_ptr<Session>& session);
  std::vector<std::shared_ptr<Session>> live_sessions();
  void close_acceptor();

  IoPool& io;  // a session lives on the loop it is accepted onto
  std::shared_ptr<ServerContext> ctx;
  tcp::acceptor acceptor;
  net::steady_timer retry;  // back-off after an accept error (e.g. out of descriptors)
  std::atomic<std::uint16_t> port{0};

  std::mutex sessions_mutex;
  std::vector<std::weak_ptr<Session>> sessions;  // pruned as they expire
};

void HttpServer::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(io.next()),
                        beast::bind_front_handler(&Impl::on_accept, shared_from_this()));
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    ctx->log->warn("accept failed: {}; retrying in 100ms", ec.message());
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor.is_open()) self->do_accept();
    });
    return;
  }
  // Only this strand increments the count, so check-then-add cannot overshoot.
  const auto max = ctx->config.max_connections;
  if (ctx->connections.load() >= max) {
    ctx->log->warn("refusing a connection: max_connections ({}) reached", max);
    auto session = std::make_shared<Session>(std::move(socket), ctx, /*counted=*/false);
    track(session);
    session->reject(problem_response(
        boost::beast::http::status::service_unavailable, "too-many-connections",
        "Too many connections",
        fmt::format("the server already has max_connections ({}) open connections", max)));
  } else {
    ctx->connections.fetch_add(1);
    auto session = std::make_shared<Session>(std::move(socket), ctx, /*counted=*/true);
    track(session);
    session->start();
  }
  do_accept();
}

void HttpServer::Impl::track(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(sessions_mutex);
  if (sessions.size() >= 64 && sessions.size() >= 2 * ctx->connections.load()) {
    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
  }
  sessions.push_back(session);
}

std::vector<std::shared_ptr<Session>> HttpServer::Impl::live_sessions() {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard lock(sessions_mutex);
  std::erase_if(sessions, [&](const auto& w) {
    auto s = w.lock();
    if (!s) return true;
    out.push_back(std::move(s));
    return false;
  });
  return out;
}

void HttpServer::Impl::close_acceptor() {
  net::post(acceptor.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
    self->retry.cancel();
  });
}

HttpServer::HttpServer(IoPool& io, control::HttpListenerConfig config, Runtime& runtime,
                       const DeliveryPolicy& delivery_defaults, const SinkSpec& sink_defaults,
                       HttpSecurity security)
    : impl_(std::make_shared<Impl>(io, std::make_shared<ServerContext>(std::move(config), runtime,
                                                                       delivery_defaults,
                                                                       sink_defaults, http_logger()))) {
  auto& ctx = *impl_->ctx;
  ctx.access = std::move(security.access);
  ctx.admin = std::move(security.admin);
  ctx.admin_principals = std::move(security.admin_principals);
}

HttpServer::~HttpServer() {
  // Pending accepts keep Impl alive; make sure none is left waiting once we go.
  impl_->ctx->accepting.store(false);
  impl_->close_acceptor();
}

Result<void> HttpServer::start() {
  auto& cfg = impl_->ctx->config;
  const auto where = fmt::format("{}:{}", cfg.host, cfg.port);
  const std::string_view listener = impl_->ctx->admin ? "admin" : "http";
  if (cfg.tls.enabled()) {
    auto tls = tls::ServerTls::make(cfg.tls, fmt::format("{}.tls", listener));
    if (!tls) return std::unexpected(tls.error());
    impl_->ctx->tls = std::move(*tls);
  }
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(cfg.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, cfg.port);
  } else {
    tcp::resolver resolver(impl_->io.main());
    auto results = resolver.resolve(cfg.host, std::to_string(cfg.port), ec);
    if (ec || results.empty()) {
      return fail(Errc::internal, fmt::format("http: cannot resolve listen host '{}': {}", cfg.host,
                                              ec ? ec.message() : "no address"));
    }
    endpoint = results.begin()->endpoint();
  }
  auto& acceptor = impl_->acceptor;
  auto fail_listen = [&](std::string_view step) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return fail(Errc::internal, fmt::format("http: cannot listen on {} ({}): {}", where, step, ec.message()));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail_listen("open");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail_listen("reuse_address");
  acceptor.bind(endpoint, ec);
  if (ec) return fail_listen("bind");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail_listen("listen");
  const auto local = acceptor.local_endpoint(ec);
  if (ec) return fail_listen("local_endpoint");
  impl_->port.store(local.port());
  impl_->ctx->log->info("{}listening on {}:{}{}", impl_->ctx->admin ? "admin " : "", local.address().to_string(),
                        local.port(), cfg.tls.enabled() ? " (TLS)" : "");
  net::post(acceptor.get_executor(), [impl = impl_] { impl->do_accept(); });
  return {};
}

std::uint16_t HttpServer::port() const { return impl_->port.load(); }

std::shared_ptr<tls::ServerTls> HttpServer::tls() const { return impl_->ctx->tls; }

void HttpServer::stop_accepting() {
  if (!impl_->ctx->accepting.exchange(false)) return;
  impl_->ctx->log->info("stopped accepting; open connections close after their current request");
  impl_->close_acceptor();
  for (auto& session : impl_->live_sessions()) session->on_stop_accepting();
}

void HttpServer::close_all() {
  impl_->ctx->accepting.store(false);
  impl_->close_acceptor();
  auto sessions = impl_->live_sessions();
  impl_->ctx->log->info("closing {} connection(s)", sessions.size());
  for (auto& session : sessions) session->close();
}

}  // namespace evmesh::http
