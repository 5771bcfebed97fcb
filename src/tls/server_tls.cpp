#include "server_tls.h"

#include <fstream>
#include <sstream>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <fmt/format.h>

namespace evmesh::tls {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> make_server_tls(const control::TlsConfig& tls,
                                                      std::string_view key) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  auto failed = [&](std::string_view what, const std::string& file) {
    return fail(Errc::internal, fmt::format("{}.{}: cannot load '{}': {}", key, what, file,
                                            ec.message()));
  };
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) return failed("cert_file", tls.cert_file);
  ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec) return failed("key_file", tls.key_file);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return fail(Errc::internal, fmt::format("{}.key_file: '{}' does not match the certificate in '{}'",
                                            key, tls.key_file, tls.cert_file));
  if (!tls.client_ca_file.empty()) {
    ctx->load_verify_file(tls.client_ca_file, ec);
    if (ec) return failed("client_ca_file", tls.client_ca_file);
    ctx->set_verify_mode(ssl::verify_peer, ec);
    // Which CAs we accept, sent to the client so it picks the right certificate.
    if (auto* names = SSL_load_client_CA_file(tls.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
  }
  return ctx;
}

control::PeerCertificate peer_certificate(SSL* ssl) {
  control::PeerCertificate out;
  if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return out;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!subject) return out;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (bio && X509_NAME_print_ex(bio.get(), subject, 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    if (n > 0) out.subject_dn.assign(data, static_cast<std::size_t>(n));
  }
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
    if (n > 0) out.common_name.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
  }
  return out;
}

namespace {

// The bytes of the files that make the context, so a reload can tell whether
// anything changed (a rotated certificate keeps its path).
std::string fingerprint(const control::TlsConfig& tls) {
  std::string all;
  for (const auto* path : {&tls.cert_file, &tls.key_file, &tls.client_ca_file}) {
    all += *path;
    all.push_back('\0');
    std::ifstream in(*path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    all += text.str();
    all.push_back('\0');
  }
  return control::hash_sha256(all);
}

}  // namespace

Result<std::shared_ptr<const ServerTls::Loaded>> ServerTls::load(const control::TlsConfig& tls,
                                                                 std::string_view key) {
  auto loaded = std::make_shared<Loaded>();
  loaded->config = tls;
  if (!tls.enabled()) return loaded;
  loaded->fingerprint = fingerprint(tls);
  auto context = make_server_tls(tls, key);
  if (!context) return std::unexpected(context.error());
  loaded->context = std::move(*context);
  return loaded;
}

Result<std::shared_ptr<ServerTls>> ServerTls::make(const control::TlsConfig& tls, std::string key) {
  auto loaded = load(tls, key);
  if (!loaded) return std::unexpected(loaded.error());
  std::shared_ptr<ServerTls> out(new ServerTls(std::move(key)));
  out->current_.store(std::move(*loaded));
  return out;
}

Result<std::shared_ptr<const ServerTls::Loaded>> ServerTls::prepare(const control::TlsConfig& next) const {
  const auto running = current_.load(std::memory_order_acquire);
  // Plaintext <-> TLS is the listener's shape, not its certificate: a restart.
  if (next.enabled() != running->config.enabled()) return nullptr;
  if (!next.enabled()) return nullptr;
  if (fingerprint(next) == running->fingerprint && next.cert_file == running->config.cert_file &&
      next.key_file == running->config.key_file && next.client_ca_file == running->config.client_ca_file)
    return nullptr;
  return load(next, key_);
}

void ServerTls::install(std::shared_ptr<const Loaded> loaded) {
  if (loaded) current_.store(std::move(loaded), std::memory_order_release);
}

}  // namespace evmesh::tls
