#include "adapters/http/webhook_exchange.h"

#include <array>
#include <exception>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/optional.hpp>
#include <spdlog/spdlog.h>

#include "adapters/http/webhook_response.h"

namespace evmesh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

std::shared_ptr<spdlog::logger> log() {
  static const auto logger = [] {
    auto l = spdlog::get("http");
    return l ? l : spdlog::default_logger()->clone("http");
  }();
  return logger;
}

// A Beast body that counts the response body and keeps none of it: webhooks
// answer with whatever they like and we only care about the status.
struct DiscardBody {
  struct value_type {
    std::uint64_t size = 0;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      auto n = beast::buffer_bytes(buffers);
      body_.size += n;
      ec = {};
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

std::string ms_text(milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

struct Exchange::Response {
  explicit Response(std::size_t max_body) {
    parser.header_limit(16 * 1024);
    parser.body_limit(max_body);
  }
  bhttp::response_parser<DiscardBody> parser;
};

Exchange::Exchange(std::shared_ptr<const WebhookConfig> config, std::shared_ptr<ConnectionPool> pool,
                   EventPtr ev, WebhookRequest request, DeliveryDone done)
    : config_(std::move(config)),
      pool_(std::move(pool)),
      ev_(std::move(ev)),
      request_(std::move(request)),
      done_(std::move(done)) {}

// Reached with done_ still set only when the io_context was destroyed with this
// exchange pending: the daemon is going away and the runtime will not be told.
Exchange::~Exchange() = default;

void Exchange::start(std::shared_ptr<PooledConnection> conn) {
  deadline_ = std::chrono::steady_clock::now() + config_->timeout;
  run_on(std::move(conn));
}

void Exchange::run_on(std::shared_ptr<PooledConnection> conn) {
  conn_ = std::move(conn);
  response_.reset();
  asio::post(conn_->stream.get_executor(), [self = shared_from_this()] { self->step(); });
}

void Exchange::step() {
  if (conn_->is_open()) {
    do_write();
  } else {
    do_resolve();
  }
}

void Exchange::do_resolve() {
  auto now = std::chrono::steady_clock::now();
  connect_deadline_ = std::min(deadline_, now + config_->options.connect_timeout);
  const Url& url = config_->url;

  beast::error_code ec;
  auto address = asio::ip::make_address(url.host, ec);
  if (!ec) {  // an IP literal needs no resolver
    do_connect(std::array<tcp::endpoint, 1>{tcp::endpoint(address, url.port)});
    return;
  }
  auto ex = conn_->stream.get_executor();
  resolver_.emplace(ex);
  resolve_timer_.emplace(ex);
  resolve_timer_->expires_at(connect_deadline_);
  resolve_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->resolver_) return;  // the resolve finished first
    self->resolve_timed_out_ = true;
    self->resolver_->cancel();
  });
  resolver_->async_resolve(url.host, std::to_string(url.port),
                           beast::bind_front_handler(&Exchange::on_resolve, shared_from_this()));
}

void Exchange::on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
  resolve_timer_->cancel();
  if (resolve_timed_out_) {
    return fail("resolving " + config_->url.host + " timed out after " +
                ms_text(std::min(config_->timeout, config_->options.connect_timeout)));
  }
  if (ec) return fail("resolve " + config_->url.host + " failed: " + ec.message());
  do_connect(results);
}

template <typename Endpoints>
void Exchange::do_connect(const Endpoints& endpoints) {
  conn_->stream.expires_at(connect_deadline_);
  conn_->stream.async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
    self->on_connect(ec);
  });
}

void Exchange::on_connect(beast::error_code ec) {
  if (ec == beast::error::timeout) {
    if (connect_deadline_ == deadline_)
      return fail("timed out after " + ms_text(config_->timeout) + " connecting to " + config_->authority);
    return fail("connect to " + config_->authority + " timed out after " + ms_text(config_->options.connect_timeout));
  }
  if (ec) return fail("connect to " + config_->authority + " failed: " + ec.message());
  conn_->stream.socket().set_option(tcp::no_delay(true), ec);  // best effort
  do_write();
}

void Exchange::do_write() {
  conn_->stream.expires_at(deadline_);
  bhttp::async_write(conn_->stream, request_, beast::bind_front_handler(&Exchange::on_write, shared_from_this()));
}

void Exchange::on_write(beast::error_code ec, std::size_t) {
  if (ec) {
    if (stale_connection(ec)) return retry_on_fresh_connection();
    if (ec == beast::error::timeout)
      return fail("timed out after " + ms_text(config_->timeout) + " sending the request to " + config_->authority);
    return fail("write to " + config_->authority + " failed: " + ec.message());
  }
  do_read();
}

void Exchange::do_read() {
  if (!response_) response_ = std::make_unique<Response>(config_->options.max_response_bytes);
  bhttp::async_read(conn_->stream, conn_->buffer, response_->parser,
                    beast::bind_front_handler(&Exchange::on_read, shared_from_this()));
}

void Exchange::on_read(beast::error_code ec, std::size_t) {
  auto& parser = response_->parser;
  const auto& res = parser.get();
  auto outcome = [&] {
    return outcome_for_status(res.result_int(), res.reason(), res[bhttp::field::retry_after],
                              std::chrono::system_clock::now());
  };
  if (ec) {
    // Once the status line and headers are in, the sink has decided; a body that
    // is too large, cut short or late does not change that. The connection is
    // not reusable though.
    if (parser.is_header_done()) return finish(outcome(), false);
    if (stale_connection(ec)) return retry_on_fresh_connection();
    if (ec == beast::error::timeout)
      return fail("timed out after " + ms_text(config_->timeout) + " waiting for the response from " +
                  config_->authority);
    if (ec == bhttp::error::end_of_stream)
      return fail("connection closed by " + config_->authority + " before a response");
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category())
      return fail("bad response from " + config_->authority + ": " + ec.message());
    return fail("read from " + config_->authority + " failed: " + ec.message());
  }
  int status = res.result_int();
  if (status >= 100 && status < 200 && status != 101) {  // interim response: the real one follows
    response_.reset();
    return do_read();
  }
  ++conn_->responses;
  bool keep = parser.keep_alive() && status != 101 && conn_->buffer.size() == 0;
  finish(outcome(), keep);
}

bool Exchange::stale_connection(beast::error_code ec) const {
  if (retried_ || conn_->responses == 0) return false;  // only a connection from the pool
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return false;
  bool got_bytes = (response_ && response_->parser.got_some()) || conn_->buffer.size() > 0;
  return !got_bytes;
}

void Exchange::retry_on_fresh_connection() {
  log()->debug("webhook {}: pooled connection was stale, reconnecting", config_->authority);
  conn_->close();
  retried_ = true;
  auto fresh = pool_->fresh();
  if (!fresh) return fail("sink closed");
  run_on(std::move(fresh));
}

void Exchange::fail(std::string error) {
  DeliveryOutcome outcome;
  outcome.kind = DeliveryOutcome::Kind::retry;
  outcome.status = 0;
  outcome.error = std::move(error);
  finish(std::move(outcome), false);
}

void Exchange::finish(DeliveryOutcome outcome, bool keep_connection) {
  if (conn_) {
    if (keep_connection) conn_->stream.expires_never();
    pool_->release(std::move(conn_), keep_connection);  // before done: a next send may reuse it
  }
  resolver_.reset();
  resolve_timer_.reset();
  auto done = std::exchange(done_, nullptr);
  if (!done) return;
  try {
    done(std::move(outcome));
  } catch (const std::exception& e) {
    log()->error("webhook {}: delivery callback threw: {}", config_->authority, e.what());
  } catch (...) {
    log()->error("webhook {}: delivery callback threw", config_->authority);
  }
}

}  // namespace evmesh::http
