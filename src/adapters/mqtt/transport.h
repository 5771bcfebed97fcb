// Transport: the byte stream under one MQTT connection, plain TCP or TLS over TCP
// (mqtt.tls, docs/security.md). It offers the few socket operations Connection uses,
// with the same signatures as tcp::socket, so the protocol code does not care which.
// A TLS transport is handed over after its handshake (MqttServer), together with the
// client certificate the handshake verified.
//
// TLS writes: an SSL stream writes one buffer of a gather list per record and
// syscall; a connection writes many small PUBLISH heads, so up to 16 KiB of the list
// is copied into one record. Connection keeps one write in flight, which makes the
// single staging buffer safe.
//
// Memory: a plain connection carries only the socket; everything TLS needs sits in
// one block allocated for TLS connections alone (idle devices are the common case).
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "evmesh/control/auth.h"

namespace evmesh::mqtt {

class Transport {
 public:
  using tcp = boost::asio::ip::tcp;
  using Tls = boost::asio::ssl::stream<tcp::socket>;
  using executor_type = tcp::socket::executor_type;

  explicit Transport(tcp::socket socket) : plain_(std::move(socket)) {}
  // After a finished handshake. `context` is kept alive as long as the stream.
  Transport(std::unique_ptr<Tls> tls, std::shared_ptr<boost::asio::ssl::context> context,
            control::PeerCertificate peer)
      : plain_(tls->get_executor()),
        tls_(std::make_unique<TlsState>(TlsState{std::move(context), std::move(tls), std::move(peer), {}})) {}

  executor_type get_executor() { return plain_.get_executor(); }
  tcp::socket& socket() { return tls_ ? tls_->stream->next_layer() : plain_; }
  bool secure() const { return tls_ != nullptr; }
  // The verified client certificate (empty without TLS or without a certificate).
  const control::PeerCertificate& peer_certificate() const {
    static const control::PeerCertificate none;
    return tls_ ? tls_->peer : none;
  }

  template <typename Option>
  void set_option(const Option& option, boost::system::error_code& ec) {
    socket().set_option(option, ec);
  }
  // Closes the TCP layer: MQTT says goodbye with DISCONNECT, not with a TLS alert.
  void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) { socket().shutdown(what, ec); }
  void close(boost::system::error_code& ec) { socket().close(ec); }

  // Plain TCP only (reads_on_demand()): wait until bytes can be read, then take them
  // with read_now() — so a silent peer needs no read buffer. TLS cannot: OpenSSL may
  // hold decrypted bytes the socket no longer signals.
  bool reads_on_demand() const { return !tls_; }
  template <typename Handler>
  void async_wait_readable(Handler&& handler) {
    plain_.async_wait(tcp::socket::wait_read, std::forward<Handler>(handler));
  }
  // Non-blocking (the socket is set so): would_block when nothing is there.
  std::size_t read_now(const boost::asio::mutable_buffer& buffer, boost::system::error_code& ec) {
    return plain_.read_some(buffer, ec);
  }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) tls_->stream->async_read_some(buffers, std::forward<Handler>(handler));
    else plain_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (!tls_) return plain_.async_write_some(buffers, std::forward<Handler>(handler));
    // The bytes written of the staged prefix are the bytes consumed from `buffers`.
    auto& staging = tls_->staging;
    staging.clear();
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && staging.size() < kRecord; ++it) {
      const boost::asio::const_buffer b(*it);
      const auto n = std::min(b.size(), kRecord - staging.size());
      const auto* p = static_cast<const char*>(b.data());
      staging.insert(staging.end(), p, p + n);
    }
    tls_->stream->async_write_some(boost::asio::buffer(staging), std::forward<Handler>(handler));
  }

 private:
  static constexpr std::size_t kRecord = 16 * 1024;  // a TLS record's payload
  struct TlsState {
    std::shared_ptr<boost::asio::ssl::context> context;
    std::unique_ptr<Tls> stream;
    control::PeerCertificate peer;
    std::vector<char> staging;
  };
  tcp::socket plain_;  // with TLS: unused (holds only the executor)
  std::unique_ptr<TlsState> tls_;
};

}  // namespace evmesh::mqtt
