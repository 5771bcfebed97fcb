// TLS for the HTTP listeners (docs/security.md): the server context from
// http.tls / admin.tls, and what a verified client certificate says.
#pragma once

#include <memory>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "evmesh/control/auth.h"
#include "evmesh/control/config.h"

namespace evmesh::http {

// TLS 1.2 and 1.3 only. With client_ca_file a client may present a certificate,
// which must then chain to that CA (otherwise the handshake fails); a client without
// one is served and authenticates by other means. Errors name the key and file.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls(const control::TlsConfig& tls,
                                                                   std::string_view key);

// The peer certificate of a finished handshake, when the client sent one and it
// verified; empty otherwise.
control::PeerCertificate peer_certificate(SSL* ssl);

}  // namespace evmesh::http
