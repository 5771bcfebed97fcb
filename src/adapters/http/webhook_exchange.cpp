#include "adapters/http/webhook_exchange.h"

#include <exception>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "adapters/http/webhook_connect.h"
#include "adapters/http/webhook_response.h"
#include "adapters/http/webhook_response_parser.h"

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

}  // namespace

struct Exchange::Response : ResponseReader {
  using ResponseReader::ResponseReader;
};

Exchange::Exchange(std::shared_ptr<const WebhookConfig> config, std::shared_ptr<ConnectionPool> pool,
                   EventPtr ev, std::string request, DeliveryDone done)
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
    async_open(conn_->stream, config_, deadline_,
               [self = shared_from_this()](std::string error) { self->on_open(std::move(error)); });
  }
}

void Exchange::on_open(std::string error) {
  if (!error.empty()) return fail(std::move(error));
  do_write();
}

void Exchange::do_write() {
  conn_->stream.expires_at(deadline_);
  asio::async_write(conn_->stream, asio::buffer(request_),
                    beast::bind_front_handler(&Exchange::on_write, shared_from_this()));
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
  auto outcome = [&] {
    return outcome_for_status(parser.status(), parser.reason(), parser.retry_after(),
                              std::chrono::system_clock::now());
  };
  if (ec) {
    // Once the status line and headers are in, the sink has decided; a body that
    // is too large, cut short or late does not change that. The connection is
    // not reusable though.
    if (parser.is_header_done()) return finish(outcome(), false);
    if (stale_connection(ec)) return retry_on_fresh_connection();
    return fail(read_error_text(ec, *config_));
  }
  int status = parser.status();
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
