#include "adapters/http/webhook_pipeline.h"

#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <spdlog/spdlog.h>

#include "adapters/http/connection_pool.h"
#include "adapters/http/parse_buffered.h"
#include "adapters/http/webhook_connect.h"
#include "adapters/http/webhook_response.h"
#include "adapters/http/webhook_response_parser.h"

namespace evmesh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::shared_ptr<spdlog::logger> log() {
  static const auto logger = [] {
    auto l = spdlog::get("http");
    return l ? l : spdlog::default_logger()->clone("http");
  }();
  return logger;
}

DeliveryOutcome retry_outcome(std::string error) {
  return DeliveryOutcome{DeliveryOutcome::Kind::retry, 0, std::move(error), {}};
}

}  // namespace

// One TCP connection and its read state; handlers hold it, so a dropped
// connection's late completions find their own (closed) objects and are ignored.
struct Pipeline::Connection {
  explicit Connection(const asio::strand<asio::any_io_executor>& ex) : stream(ex) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::optional<ResponseReader> response;
  std::size_t responses = 0;
  bool open = false, writing = false, reading = false;
  bool answered_while_pipelined = false;  // a response came with more requests behind it
};

Pipeline::Pipeline(asio::any_io_executor ex, std::shared_ptr<const WebhookConfig> config, std::size_t depth)
    : strand_(asio::make_strand(ex)), config_(std::move(config)), depth_(depth), timer_(strand_) {}

void Pipeline::send(EventPtr ev, std::string request, Done done) {
  bool post_drain;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(Entry{std::move(ev), std::move(request), std::move(done)});
    post_drain = !std::exchange(drain_posted_, true);
  }
  if (post_drain) asio::post(strand_, [self = shared_from_this()] { self->drain_inbox(); });
}

void Pipeline::drain_inbox() {
  {
    std::lock_guard lock(inbox_mutex_);
    draining_.swap(inbox_);
    drain_posted_ = false;
  }
  for (auto& entry : draining_) pending_.push_back(std::move(entry));
  draining_.clear();
  if (closed_) return fail_all(pending_, "sink closed");
  pump();
}

void Pipeline::close() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    self->timer_.cancel();
    self->drop_connection();
    self->fail_all(self->sent_, "sink closed");
    self->fail_all(self->pending_, "sink closed");
  });
}

void Pipeline::pump() {
  if (closed_) return;
  if (!conn_) {
    if (!pending_.empty()) open();
    return;
  }
  if (!conn_->open) return;  // connecting
  if (!conn_->writing && !pending_.empty() && sent_.size() < depth_) {
    // An idle keep-alive connection may have been closed by the sink meanwhile.
    if (sent_.empty() && conn_->responses > 0 && !looks_alive(conn_->stream)) {
      drop_connection();
      return pump();
    }
    write();
    if (!conn_) return;  // the write completed at once and what followed dropped it
  }
  if (!conn_->reading && !sent_.empty()) read();
}

void Pipeline::open() {
  conn_ = std::make_shared<Connection>(strand_);
  async_open(conn_->stream, config_, std::chrono::steady_clock::now() + config_->timeout,
             [self = shared_from_this(), conn = conn_](std::string error) { self->on_open(conn, std::move(error)); });
}

void Pipeline::on_open(const std::shared_ptr<Connection>& conn, std::string error) {
  if (conn != conn_) return;
  if (!error.empty()) {  // nothing was sent on it: what waits cannot go anywhere now
    conn_.reset();
    return fail_all(pending_, error);
  }
  conn->stream.expires_never();  // deadlines are per request, on timer_
  beast::error_code ignored;
  conn->stream.socket().non_blocking(true, ignored);  // write() tries a write at once
  conn->open = true;
  pump();
}

void Pipeline::write() {
  auto buf = std::make_shared<std::string>();
  const auto deadline = std::chrono::steady_clock::now() + config_->timeout;
  while (!pending_.empty() && sent_.size() < depth_) {
    auto& entry = pending_.front();
    buf->append(entry.wire);
    entry.deadline = deadline;
    sent_.push_back(std::move(entry));
    pending_.pop_front();
  }
  conn_->writing = true;
  arm_timer();
  // Nearly every write fits the socket's buffer: send it now, saving a pass through
  // the event loop. What is left (or an error) goes the asynchronous way.
  auto conn = conn_;
  beast::error_code ec;
  const std::size_t sent = conn->stream.socket().write_some(asio::buffer(*buf), ec);
  if (!ec && sent == buf->size()) return on_write(conn, {});
  asio::async_write(conn->stream, asio::buffer(*buf) + (ec ? 0 : sent),
                    [self = shared_from_this(), conn, buf](beast::error_code ec, std::size_t) {
                      self->on_write(conn, ec);
                    });
}

void Pipeline::on_write(const std::shared_ptr<Connection>& conn, beast::error_code ec) {
  if (conn != conn_) return;
  conn->writing = false;
  if (ec) return lost("write to " + config_->authority + " failed: " + ec.message(), false, true);
  pump();
}

void Pipeline::read() {
  conn_->reading = true;
  conn_->response.emplace(config_->options.max_response_bytes);
  // Answers often arrive several per read: parse the buffered ones in place, nested
  // at most kMaxInPlace deep (on_read -> pump -> read), then read asynchronously.
  if (in_place_ < kMaxInPlace) {
    beast::error_code ec;
    if (parse_buffered(conn_->response->parser, conn_->buffer, true, ec)) {
      auto conn = conn_;  // on_read may drop conn_
      ++in_place_;
      on_read(conn, ec);
      --in_place_;
      return;
    }
  }
  bhttp::async_read(conn_->stream, conn_->buffer, conn_->response->parser,
                    [self = shared_from_this(), conn = conn_](beast::error_code ec, std::size_t) {
                      self->on_read(conn, ec);
                    });
}

void Pipeline::on_read(const std::shared_ptr<Connection>& conn, beast::error_code ec) {
  if (conn != conn_) return;
  conn->reading = false;
  const auto& parser = conn->response->parser;
  auto outcome = [&] {
    return outcome_for_status(parser.status(), parser.reason(), parser.retry_after(),
                              std::chrono::system_clock::now());
  };
  if (ec) {
    // Once the status line and headers are in, the sink has decided (as in the
    // Exchange); the connection is not reusable though.
    if (parser.is_header_done()) {
      complete_front(outcome());
      return lost(read_error_text(ec, *config_), false, false);
    }
    const bool got_bytes = parser.got_some() || conn->buffer.size() > 0;
    return lost(read_error_text(ec, *config_), got_bytes, true);
  }
  const int status = parser.status();
  if (status >= 100 && status < 200 && status != 101) return read();  // interim: the real one follows
  ++conn->responses;
  const bool keep = parser.keep_alive() && status != 101;
  complete_front(outcome());
  if (!sent_.empty()) conn->answered_while_pipelined = true;
  if (!keep) {
    if (!sent_.empty() && depth_ > 1) {
      log()->info("webhook {}: the sink closes connections with pipelined requests unanswered; "
                  "sending one request at a time from now on",
                  config_->authority);
      depth_ = 1;
    }
    for (auto it = sent_.rbegin(); it != sent_.rend(); ++it) pending_.push_front(std::move(*it));
    sent_.clear();
    drop_connection();
  }
  pump();
}

void Pipeline::lost(std::string error, bool got_bytes, bool may_resend) {
  auto conn = conn_;
  drop_connection();
  if (!sent_.empty()) {
    if (conn->answered_while_pipelined && depth_ > 1) {
      // It answered pipelined requests and then closed with more unanswered: it
      // does not keep connections for pipelining. Go on one at a time.
      log()->info("webhook {}: connection closed with pipelined requests unanswered ({}); "
                  "sending one request at a time from now on",
                  config_->authority, error);
      depth_ = 1;
      for (auto it = sent_.rbegin(); it != sent_.rend(); ++it) pending_.push_front(std::move(*it));
      sent_.clear();
    } else if (may_resend && conn->responses > 0 && !got_bytes && !sent_.front().resent) {
      // A keep-alive connection the sink closed while we were idle: once more, fresh.
      log()->debug("webhook {}: pooled connection was stale, reconnecting", config_->authority);
      for (auto it = sent_.rbegin(); it != sent_.rend(); ++it) {
        it->resent = true;
        pending_.push_front(std::move(*it));
      }
      sent_.clear();
    } else {
      fail_all(sent_, error);
    }
  }
  pump();
}

void Pipeline::drop_connection() {
  if (!conn_) return;
  beast::error_code ignored;
  conn_->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  conn_->stream.close();
  conn_.reset();
}

void Pipeline::arm_timer() {
  if (timer_armed_ || sent_.empty()) return;
  timer_armed_ = true;
  timer_.expires_at(sent_.front().deadline);
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    self->timer_armed_ = false;
    if (!ec) self->on_timer();
  });
}

// The timer is set once for the oldest request and moved on only when it fires,
// not on every response: cheaper at high rates.
void Pipeline::on_timer() {
  if (closed_ || sent_.empty()) return;
  if (sent_.front().deadline > std::chrono::steady_clock::now()) return arm_timer();
  complete_front(retry_outcome(read_error_text(beast::error::timeout, *config_)));
  for (auto it = sent_.rbegin(); it != sent_.rend(); ++it) pending_.push_front(std::move(*it));
  sent_.clear();
  drop_connection();
  pump();
}

void Pipeline::complete_front(DeliveryOutcome outcome) {
  auto entry = std::move(sent_.front());
  sent_.pop_front();
  try {
    entry.done(std::move(outcome));
  } catch (const std::exception& e) {
    log()->error("webhook {}: delivery callback threw: {}", config_->authority, e.what());
  }
}

void Pipeline::fail_all(std::deque<Entry>& entries, const std::string& error) {
  auto failing = std::move(entries);
  entries.clear();
  for (auto& entry : failing) {
    try {
      entry.done(retry_outcome(error));
    } catch (const std::exception& e) {
      log()->error("webhook {}: delivery callback threw: {}", config_->authority, e.what());
    }
  }
}

}  // namespace evmesh::http
