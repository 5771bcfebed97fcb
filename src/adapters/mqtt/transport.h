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
      : plain_(tls->get_executor()), context_(std::move(context)), tls_(std::move(tls)), peer_(std::move(peer)) {}

  executor_type get_executor() { return plain_.get_executor(); }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  bool secure() const { return tls_ != nullptr; }
  // The verified client certificate (empty without TLS or without a certificate).
  const control::PeerCertificate& peer_certificate() const { return peer_; }

  template <typename Option>
  void set_option(const Option& option, boost::system::error_code& ec) {
    socket().set_option(option, ec);
  }
  // Closes the TCP layer: MQTT says goodbye with DISCONNECT, not with a TLS alert.
  void shutdown(tcp::socket::shutdown_type what, boost::system::error_code& ec) { socket().shutdown(what, ec); }
  void close(boost::system::error_code& ec) { socket().close(ec); }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) tls_->async_read_some(buffers, std::forward<Handler>(handler));
    else plain_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (!tls_) return plain_.async_write_some(buffers, std::forward<Handler>(handler));
    // The bytes written of the staged prefix are the bytes consumed from `buffers`.
    staging_.clear();
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && staging_.size() < kRecord; ++it) {
      const boost::asio::const_buffer b(*it);
      const auto n = std::min(b.size(), kRecord - staging_.size());
      const auto* p = static_cast<const char*>(b.data());
      staging_.insert(staging_.end(), p, p + n);
    }
    tls_->async_write_some(boost::asio::buffer(staging_), std::forward<Handler>(handler));
  }

 private:
  static constexpr std::size_t kRecord = 16 * 1024;  // a TLS record's payload
  tcp::socket plain_;  // with TLS: unused (holds only the executor)
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::unique_ptr<Tls> tls_;
  control::PeerCertificate peer_;
  std::vector<char> staging_;
};

}  // namespace evmesh::mqtt
