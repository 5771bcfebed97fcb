// One HTTP/1.1 connection: reads requests one at a time, dispatches them (router.h)
// and writes the response, on the connection's own strand.
//
// With TLS the handshake comes first (within header_timeout); then per request:
// Per request:  wait for the first bytes (idle_timeout; on the first request the
//               header_timeout deadline from the accept covers wait and header)
//               -> read the header (header_timeout, max_header_bytes -> 431)
//               -> pick the body limit (router.h); a declared Content-Length over it is
//                  refused with 413 before reading; Expect: 100-continue is answered
//               -> read the body (body_timeout; over the limit -> 413)
//               -> route -> write (body_timeout) -> keep-alive or close.
// A timeout closes the connection without a response. Timeouts are one lazy
// deadline per session (set_deadline), not a timer per read and write: a request
// then costs no timer operation, and the timer wakes about once per timeout period. After stop_accepting()
// responses carry Connection: close, and a connection idle between requests is
// closed at once (a new connection that has sent nothing counts as idle). When we
// close with request bytes possibly unread (413 before the body, 431, malformed
// request) we shut down our side and drain the socket for a short while first, so
// the client reads the response rather than a reset.
//
// The session owns itself (shared_from_this in every pending handler); the server
// holds only a weak_ptr, for close_all() and stop notifications.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "evmesh/control/auth.h"
#include "server_context.h"
#include "server_stream.h"

namespace evmesh::http {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `counted`: the session takes one of ctx.connections (released on destruction).
  Session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerContext> ctx, bool counted);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts serving requests.
  void start();
  // Answers `res` without reading a request, then closes (over max_connections).
  void reject(Response res);
  // Any thread: closes the socket now (pending operations end with an error).
  void close();
  // Any thread: the server stopped accepting; close now if idle between requests.
  void on_stop_accepting();

 private:
  using HeaderParser = boost::beast::http::request_parser<boost::beast::http::empty_body>;
  using BodyParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void on_handshake(boost::beast::error_code ec);
  void do_wait_request();
  void on_wait_request(boost::beast::error_code ec, std::size_t n);
  void do_read_header();
  void on_read_header(boost::beast::error_code ec, std::size_t n);
  void do_read_body();
  void on_continue_written(boost::beast::error_code ec, std::size_t n);
  void on_read_body(boost::beast::error_code ec, std::size_t n);
  void dispatch(Request req);
  // Writes `res`; keep_alive=false closes afterwards (draining when `unread`).
  void send(Response res, bool keep_alive, bool unread = false, bool head = false);
  void on_write(bool keep_alive, bool unread, boost::beast::error_code ec, std::size_t n);
  void refuse_too_large(std::string detail);
  void do_linger();
  void on_linger(boost::beast::error_code ec, std::size_t n);
  void do_close();
  // Answers a failed read when the error calls for a response (431, 413, 400).
  void fail_read(boost::beast::error_code ec, std::string_view phase);
  // The connection closes (without a response) if the operation now starting has not
  // completed `after` from now; `phase` names it in the log. clear_deadline() when it
  // completed. Only an earlier deadline than the armed one re-arms the timer.
  void set_deadline(std::chrono::steady_clock::duration after, std::string_view phase);
  void clear_deadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }
  void arm_timer();
  void on_timer();
  // Writes `bytes` (which outlive the write) on a plain connection right now if the
  // socket takes them all; false when it did not (nothing or part was written: the
  // rest goes asynchronously, `written` says how much went).
  bool write_now(std::string_view bytes, std::size_t& written);

  // The listener's TLS context when this connection was accepted, kept for the
  // connection's life: a reload may install a new one for later connections.
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  ServerStream stream_;
  control::PeerCertificate peer_;  // a verified TLS client certificate, if any
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerContext> ctx_;
  const std::uint64_t id_;
  const bool counted_;
  std::optional<HeaderParser> header_parser_;
  std::optional<BodyParser> body_parser_;
  std::optional<Response> res_;  // kept alive while written
  boost::beast::http::response<boost::beast::http::empty_body> continue_;
  BodyLimit body_limit_{0, ""};
  std::uint64_t requests_ = 0;
  std::size_t lingered_ = 0;
  bool idle_ = false;    // waiting for the first byte of the next request
  bool closed_ = false;
  std::array<char, 4096> discard_{};
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point timer_at_{};  // expiry of the armed timer
  std::uint64_t timer_generation_ = 0;                // handlers of replaced waits see a newer one
  bool timer_armed_ = false;
  std::string_view deadline_phase_;
  unsigned in_place_ = 0;  // nesting of requests answered without an asynchronous operation
};

}  // namespace evmesh::http
