#include "adapters/http/webhook_connect.h"

#include <algorithm>
#include <array>
#include <optional>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace evmesh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Owns the resolver and its timer until the connect is done.
class Opener : public std::enable_shared_from_this<Opener> {
 public:
  Opener(beast::tcp_stream& stream, std::shared_ptr<const WebhookConfig> config,
         std::chrono::steady_clock::time_point deadline, OpenDone done)
      : stream_(stream), config_(std::move(config)), deadline_(deadline), done_(std::move(done)) {}

  void start() {
    connect_deadline_ = std::min(deadline_, std::chrono::steady_clock::now() + config_->options.connect_timeout);
    const Url& url = config_->url;
    beast::error_code ec;
    auto address = asio::ip::make_address(url.host, ec);
    if (!ec) {  // an IP literal needs no resolver
      do_connect(std::array<tcp::endpoint, 1>{tcp::endpoint(address, url.port)});
      return;
    }
    auto ex = stream_.get_executor();
    resolver_.emplace(ex);
    resolve_timer_.emplace(ex);
    resolve_timer_->expires_at(connect_deadline_);
    resolve_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->resolver_) return;  // the resolve finished first
      self->resolve_timed_out_ = true;
      self->resolver_->cancel();
    });
    resolver_->async_resolve(url.host, std::to_string(url.port),
                             [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                               self->on_resolve(ec, std::move(results));
                             });
  }

 private:
  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    resolve_timer_->cancel();
    if (resolve_timed_out_) {
      return done_("resolving " + config_->url.host + " timed out after " +
                   ms_text(std::min(config_->timeout, config_->options.connect_timeout)));
    }
    if (ec) return done_("resolve " + config_->url.host + " failed: " + ec.message());
    do_connect(results);
  }

  template <typename Endpoints>
  void do_connect(const Endpoints& endpoints) {
    stream_.expires_at(connect_deadline_);
    stream_.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      self->on_connect(ec);
    });
  }

  void on_connect(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      if (connect_deadline_ == deadline_)
        return done_("timed out after " + ms_text(config_->timeout) + " connecting to " + config_->authority);
      return done_("connect to " + config_->authority + " timed out after " +
                   ms_text(config_->options.connect_timeout));
    }
    if (ec) return done_("connect to " + config_->authority + " failed: " + ec.message());
    stream_.socket().set_option(tcp::no_delay(true), ec);  // best effort
    done_({});
  }

  beast::tcp_stream& stream_;
  std::shared_ptr<const WebhookConfig> config_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point connect_deadline_;
  OpenDone done_;
  std::optional<tcp::resolver> resolver_;
  std::optional<asio::steady_timer> resolve_timer_;
  bool resolve_timed_out_ = false;
};

}  // namespace

void async_open(beast::tcp_stream& stream, std::shared_ptr<const WebhookConfig> config,
                std::chrono::steady_clock::time_point deadline, OpenDone done) {
  std::make_shared<Opener>(stream, std::move(config), deadline, std::move(done))->start();
}

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace evmesh::http
