// The byte stream under one HTTP session: plain TCP, or TLS over TCP when the
// listener has a certificate (http.tls). One type for both, so the session's code
// stays the same; timeouts and close act on the TCP layer underneath either way.
#pragma once

#include <utility>
#include <variant>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace evmesh::http {

class ServerStream {
 public:
  using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using executor_type = boost::beast::tcp_stream::executor_type;

  // `tls` null: plain TCP.
  ServerStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls) {
    if (tls) stream_.emplace<Tls>(std::move(socket), *tls);
    else stream_.emplace<boost::beast::tcp_stream>(std::move(socket));
  }

  executor_type get_executor() { return tcp().get_executor(); }
  boost::beast::tcp_stream& tcp() {
    if (auto* t = tls()) return t->next_layer();
    return std::get<boost::beast::tcp_stream>(stream_);
  }
  boost::asio::ip::tcp::socket& socket() { return tcp().socket(); }
  Tls* tls() { return std::get_if<Tls>(&stream_); }
  template <typename Duration>
  void expires_after(Duration d) { tcp().expires_after(d); }
  void close() { tcp().close(); }

  // AsyncReadStream / AsyncWriteStream, for Beast's HTTP operations.
  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (auto* t = tls()) t->async_read_some(buffers, std::forward<Handler>(handler));
    else std::get<boost::beast::tcp_stream>(stream_).async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (auto* t = tls()) t->async_write_some(buffers, std::forward<Handler>(handler));
    else std::get<boost::beast::tcp_stream>(stream_).async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  std::variant<std::monostate, boost::beast::tcp_stream, Tls> stream_;
};

}  // namespace evmesh::http
