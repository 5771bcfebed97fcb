#include "tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <fmt/format.h>

namespace evmesh::http {

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

}  // namespace evmesh::http
