#include "session.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/http/error.hpp>
#include <fmt/format.h>

#include "parse_buffered.h"
#include "problem.h"
#include "router.h"
#include "tls/server_tls.h"

namespace evmesh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using tcp = net::ip::tcp;

namespace {
// Draining a connection we are closing with request bytes unread.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerMaxBytes = 64 << 20;
constexpr std::size_t kWaitChunk = 4096;
// Requests answered one after the other without an asynchronous operation (pipelined
// requests already read, each answered by a write the socket took at once) nest
// send -> on_write -> the next request; past this depth the next write is posted.
constexpr unsigned kMaxInPlace = 16;

// The answer to nearly every publish, as the serializer would write it: sent as
// bytes, it costs no header allocation and no serializer.
constexpr std::string_view kAccepted = "HTTP/1.1 202 Accepted\r\nServer: evmeshd\r\nContent-Length: 0\r\n\r\n";

bool is_plain_accepted(const Response& res) {
  return res.result() == bh::status::accepted && res.version() == 11 && res.body().empty() &&
         res.begin() == res.end();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}
}  // namespace

Session::Session(tcp::socket socket, std::shared_ptr<ServerContext> ctx, bool counted)
    : tls_context_(ctx->tls ? ctx->tls->context() : nullptr),
      stream_(std::move(socket), tls_context_.get()),
      ctx_(std::move(ctx)),
      id_(ctx_->next_connection_id++),
      counted_(counted),
      timer_(stream_.get_executor()) {
  beast::error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
  // write_now() tries a write without waiting; asynchronous operations are not affected.
  if (!stream_.tls()) stream_.socket().non_blocking(true, ec);
  const auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) ctx_->log->debug("[c{}] accepted from {}:{}", id_, remote.address().to_string(), remote.port());
}

Session::~Session() {
  if (counted_) ctx_->connections.fetch_sub(1);
  ctx_->log->debug("[c{}] closed after {} request(s)", id_, requests_);
}

void Session::start() {
  if (auto* tls = stream_.tls()) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), tls] {
      self->set_deadline(self->ctx_->config.header_timeout, "TLS handshake");
      tls->async_handshake(boost::asio::ssl::stream_base::server,
                           beast::bind_front_handler(&Session::on_handshake, self));
    });
    return;
  }
  net::dispatch(stream_.get_executor(),
                beast::bind_front_handler(&Session::do_wait_request, shared_from_this()));
}

void Session::on_handshake(beast::error_code ec) {
  clear_deadline();
  if (ec) {
    ctx_->log->debug("[c{}] TLS handshake failed: {}", id_, ec.message());
    return do_close();
  }
  peer_ = tls::peer_certificate(stream_.tls()->native_handle());
  if (peer_.present()) ctx_->log->debug("[c{}] client certificate {}", id_, peer_.subject_dn);
  do_wait_request();
}

void Session::reject(Response res) {
  net::dispatch(stream_.get_executor(), [self = shared_from_this(), res = std::move(res)]() mutable {
    if (self->stream_.tls()) return self->do_close();  // no handshake yet: nothing to answer in
    self->send(std::move(res), /*keep_alive=*/false, /*unread=*/true);
  });
}

void Session::close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->do_close(); });
}

void Session::on_stop_accepting() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) self->do_close();
  });
}

// Waits for a request's first bytes. The first request's header deadline runs from
// the accept (header_timeout over wait + header); a later one may wait idle_timeout
// for its first byte, then gets header_timeout for its header.
void Session::do_wait_request() {
  if (closed_) return;
  if (buffer_.size() > 0) return do_read_header();  // pipelined request already here
  if (!ctx_->accepting.load()) return do_close();
  idle_ = true;
  if (requests_ == 0)
    set_deadline(ctx_->config.header_timeout, "request header");
  else
    set_deadline(ctx_->config.idle_timeout, "idle");
  stream_.async_read_some(buffer_.prepare(kWaitChunk),
                          beast::bind_front_handler(&Session::on_wait_request, shared_from_this()));
}

void Session::on_wait_request(beast::error_code ec, std::size_t n) {
  idle_ = false;
  if (ec) return do_close();
  if (requests_ > 0) clear_deadline();  // the first request's deadline covers its header
  buffer_.commit(n);
  do_read_header();
}

void Session::do_read_header() {
  if (closed_) return;
  header_parser_.emplace();
  header_parser_->header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(ctx_->config.max_header_bytes, UINT32_MAX)));
  header_parser_->body_limit(boost::none);  // checked in on_read_header with the right limit
  if (beast::error_code ec; parse_buffered(*header_parser_, buffer_, false, ec)) return on_read_header(ec, 0);
  if (requests_ > 0) set_deadline(ctx_->config.header_timeout, "request header");
  bh::async_read_header(stream_, buffer_, *header_parser_,
                        beast::bind_front_handler(&Session::on_read_header, shared_from_this()));
}

void Session::on_read_header(beast::error_code ec, std::size_t) {
  clear_deadline();
  if (ec) return fail_read(ec, "header");
  ++requests_;
  const auto& req = header_parser_->get();
  try {
    body_limit_ = body_limit_for(*ctx_, req.method(), req.target(), req.base());
  } catch (const std::exception& e) {  // nothing may escape into the io_context
    ctx_->log->error("[c{}] choosing the body limit: {}", id_, e.what());
    return do_close();
  }
  if (const auto length = header_parser_->content_length(); length && *length > body_limit_.bytes) {
    return refuse_too_large(fmt::format("Content-Length {} is over {} ({} bytes)", *length,
                                        body_limit_.name, body_limit_.bytes));
  }
  do_read_body();
}

void Session::do_read_body() {
  body_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  body_parser_->body_limit(body_limit_.bytes);
  if (beast::error_code ec; parse_buffered(*body_parser_, buffer_, true, ec)) return on_read_body(ec, 0);
  set_deadline(ctx_->config.body_timeout, "request body");
  const auto& req = body_parser_->get();
  if (!body_parser_->is_done() && iequals(req[bh::field::expect], "100-continue")) {
    continue_ = {bh::status::continue_, req.version()};
    bh::async_write(stream_, continue_,
                    beast::bind_front_handler(&Session::on_continue_written, shared_from_this()));
    return;
  }
  bh::async_read(stream_, buffer_, *body_parser_,
                 beast::bind_front_handler(&Session::on_read_body, shared_from_this()));
}

void Session::on_continue_written(beast::error_code ec, std::size_t) {
  if (ec) return do_close();
  bh::async_read(stream_, buffer_, *body_parser_,
                 beast::bind_front_handler(&Session::on_read_body, shared_from_this()));
}

void Session::on_read_body(beast::error_code ec, std::size_t) {
  clear_deadline();
  if (ec) return fail_read(ec, "body");
  auto req = body_parser_->release();
  body_parser_.reset();
  dispatch(std::move(req));
}

void Session::fail_read(beast::error_code ec, std::string_view phase) {
  if (closed_ || ec == net::error::operation_aborted) return do_close();
  if (ec == bh::error::end_of_stream || ec == net::error::eof) return do_close();
  if (ec == bh::error::header_limit) {
    ctx_->log->debug("[c{}] request header over max_header_bytes", id_);
    return send(problem_response(bh::status::request_header_fields_too_large, "headers-too-large",
                                 "Request header fields too large",
                                 fmt::format("the request header is over max_header_bytes ({} bytes)",
                                             ctx_->config.max_header_bytes)),
                false, true);
  }
  if (ec == bh::error::body_limit) {
    return refuse_too_large(fmt::format("the request body is over {} ({} bytes)", body_limit_.name,
                                        body_limit_.bytes));
  }
  if (ec.category() == bh::make_error_code(bh::error::bad_method).category() &&
      ec != bh::error::partial_message) {
    ctx_->log->debug("[c{}] malformed request {}: {}", id_, phase, ec.message());
    return send(problem_response(bh::status::bad_request, "bad-request", "Malformed HTTP request",
                                 ec.message()),
                false, true);
  }
  ctx_->log->debug("[c{}] read error ({}): {}", id_, phase, ec.message());
  do_close();
}

void Session::refuse_too_large(std::string detail) {
  ctx_->log->debug("[c{}] refused: {}", id_, detail);
  send(problem_response(Error::make(Errc::too_large, std::move(detail))), false, true);
}

void Session::dispatch(Request req) {
  const bool head = req.method() == bh::verb::head;
  const bool keep_alive = req.keep_alive();
  const unsigned version = req.version();
  const std::string method(req.method_string());
  const std::string target(req.target());
  // Answers a request whose handler finished later, back on this strand.
  struct LaterReply final : Later {
    Session* session;
    unsigned version;
    bool keep_alive, head;
    std::function<void(Response)> take() override {
      return [self = session->shared_from_this(), version = version, keep_alive = keep_alive, head = head](Response res) {
        net::post(self->stream_.get_executor(),
                  [self, version, keep_alive, head, res = std::move(res)]() mutable {
                    res.version(version);
                    self->send(std::move(res), keep_alive && self->ctx_->accepting.load(), false, head);
                  });
      };
    }
    net::any_io_executor executor() const override { return session->stream_.get_executor(); }
  } later;
  later.session = this;
  later.version = version;
  later.keep_alive = keep_alive;
  later.head = head;
  std::optional<Response> res;
  try {
    res = route(*ctx_, req, peer_, later);
    if (!res) return;  // answered through `later`
  } catch (const std::exception& e) {
    ctx_->log->error("[c{}] {} {}: unhandled exception: {}", id_, method, target, e.what());
    res = problem_response(Error::make(Errc::internal, "internal error; see the server log"));
  } catch (...) {
    ctx_->log->error("[c{}] {} {}: unhandled non-standard exception", id_, method, target);
    res = problem_response(Error::make(Errc::internal, "internal error; see the server log"));
  }
  res->version(version);
  ctx_->log->debug("[c{}] {} {} -> {}", id_, method, target, res->result_int());
  send(std::move(*res), keep_alive && ctx_->accepting.load(), false, head);
}

void Session::send(Response res, bool keep_alive, bool unread, bool head) {
  if (closed_) return;
  if (keep_alive && is_plain_accepted(res)) {
    std::size_t written = 0;
    if (write_now(kAccepted, written)) {
      if (in_place_ < kMaxInPlace) {
        ++in_place_;
        on_write(true, unread, {}, written);
        --in_place_;
      } else {
        net::post(stream_.get_executor(),
                  beast::bind_front_handler(&Session::on_write, shared_from_this(), true, unread,
                                            beast::error_code{}, written));
      }
      return;
    }
    set_deadline(ctx_->config.body_timeout, "response write");
    net::async_write(stream_, net::buffer(kAccepted.substr(written)),
                     beast::bind_front_handler(&Session::on_write, shared_from_this(), true, unread));
    return;
  }
  res.keep_alive(keep_alive);
  res.set(bh::field::server, "evmeshd");
  res.prepare_payload();
  if (head) res.body().clear();  // Content-Length stays that of the GET response
  res_.emplace(std::move(res));
  set_deadline(ctx_->config.body_timeout, "response write");
  bh::async_write(stream_, *res_,
                  beast::bind_front_handler(&Session::on_write, shared_from_this(), keep_alive, unread));
}

void Session::on_write(bool keep_alive, bool unread, beast::error_code ec, std::size_t) {
  clear_deadline();
  res_.reset();
  if (ec) {
    ctx_->log->debug("[c{}] write error: {}", id_, ec.message());
    return do_close();
  }
  if (keep_alive) return do_wait_request();
  if (unread) return do_linger();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  do_close();
}

// Half-close, then read and discard until the client closes (bounded in time and
// bytes): closing with unread input would make the kernel send a reset, which can
// destroy the response before the client reads it.
void Session::do_linger() {
  if (closed_) return;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  set_deadline(kLingerTimeout, "linger");
  stream_.async_read_some(net::buffer(discard_),
                          beast::bind_front_handler(&Session::on_linger, shared_from_this()));
}

void Session::on_linger(beast::error_code ec, std::size_t n) {
  lingered_ += n;
  if (ec || closed_ || lingered_ > kLingerMaxBytes) return do_close();
  stream_.async_read_some(net::buffer(discard_),
                          beast::bind_front_handler(&Session::on_linger, shared_from_this()));
}

void Session::do_close() {
  if (closed_) return;
  closed_ = true;
  idle_ = false;
  clear_deadline();
  timer_.cancel();  // its handler holds the session
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

bool Session::write_now(std::string_view bytes, std::size_t& written) {
  written = 0;
  if (stream_.tls()) return false;
  beast::error_code ec;
  written = stream_.socket().write_some(net::buffer(bytes.data(), bytes.size()), ec);
  if (ec) written = 0;  // would block, or an error the asynchronous write will report
  return written == bytes.size();
}

void Session::set_deadline(std::chrono::steady_clock::duration after, std::string_view phase) {
  deadline_ = std::chrono::steady_clock::now() + after;
  deadline_phase_ = phase;
  if (!timer_armed_ || deadline_ < timer_at_) arm_timer();
}

void Session::arm_timer() {
  timer_armed_ = true;
  timer_at_ = deadline_;
  timer_.expires_at(deadline_);  // cancels a wait for a later deadline
  timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](beast::error_code) {
    if (generation != self->timer_generation_) return;  // replaced by a wait for an earlier deadline
    self->timer_armed_ = false;
    self->on_timer();
  });
}

// The timer fires at the deadline it was armed for; the deadline may have moved on
// (or been cleared) since: then wait again, or not at all.
void Session::on_timer() {
  if (closed_ || deadline_ == std::chrono::steady_clock::time_point::max()) return;
  if (std::chrono::steady_clock::now() < deadline_) return arm_timer();
  ctx_->log->debug("[c{}] {} timeout", id_, deadline_phase_);
  do_close();
}

}  // namespace evmesh::http
