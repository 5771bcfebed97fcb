// TLS for the Asio listeners (HTTP, admin, MQTT; docs/security.md): the server
// context built from a listener's `tls` keys, what a verified client certificate
// says, and ServerTls, the context a listener hands to each new connection,
// replaceable while it runs so a reload rotates the certificate without a restart.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "evmesh/control/auth.h"
#include "evmesh/control/config.h"

namespace evmesh::tls {

using Context = boost::asio::ssl::context;

// TLS 1.2 and 1.3 only. With client_ca_file a client may present a certificate,
// which must then chain to that CA (otherwise the handshake fails); a client without
// one is served and authenticates by other means. Errors name the key ("http.tls")
// and file.
Result<std::shared_ptr<Context>> make_server_tls(const control::TlsConfig& tls, std::string_view key);

// The peer certificate of a finished handshake, when the client sent one and it
// verified; empty otherwise.
control::PeerCertificate peer_certificate(SSL* ssl);

// A listener's current server context. Connections take context() when accepted and
// keep it (an SSL holds its SSL_CTX), so replacing it affects new connections only.
// Thread-safe: context() is an atomic load; prepare/install run on one thread (reload).
class ServerTls {
 public:
  // A context built from the files as they are now, not yet in use.
  struct Loaded {
    control::TlsConfig config;
    std::string fingerprint;  // SHA-256 over the files' bytes: did anything change?
    std::shared_ptr<Context> context;
  };

  // `key` ("mqtt.tls") names the listener in errors. Fails like make_server_tls.
  static Result<std::shared_ptr<ServerTls>> make(const control::TlsConfig& tls, std::string key);

  std::shared_ptr<Context> context() const { return current_.load(std::memory_order_acquire)->context; }
  const std::string& key() const { return key_; }

  // Reads `next` into a new context without touching the running one: a missing,
  // unparsable or mismatched file is an error naming key and file. Returns null
  // when the files are the same as the running ones, or when `next` turns TLS on
  // or off (that takes a restart: the caller says so).
  Result<std::shared_ptr<const Loaded>> prepare(const control::TlsConfig& next) const;
  void install(std::shared_ptr<const Loaded> loaded);

 private:
  explicit ServerTls(std::string key) : key_(std::move(key)) {}
  static Result<std::shared_ptr<const Loaded>> load(const control::TlsConfig& tls, std::string_view key);
  std::string key_;
  std::atomic<std::shared_ptr<const Loaded>> current_;
};

}  // namespace evmesh::tls
