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
// A timeout closes the connection without a response. After stop_accepting()
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
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
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
};

}  // namespace evmesh::http
