#include "evmesh/control/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

namespace evmesh::control {
namespace {

using Unexpected = std::unexpected<std::string>;

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(raw.data()),
                  static_cast<int>(raw.size()));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  auto pad = text.size() - text.find_last_not_of('=') - 1;
  out.resize(static_cast<std::size_t>(n) - std::min<std::size_t>(pad, 2));
  return out;
}

// "a=1,b=2" -> the attributes in order; false when a part is not "x=value".
bool split_attributes(std::string_view msg, std::vector<std::pair<char, std::string_view>>& out) {
  while (true) {
    auto comma = msg.find(',');
    auto part = msg.substr(0, comma);
    if (part.size() < 2 || part[1] != '=') return false;
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos) return true;
    msg.remove_prefix(comma + 1);
  }
}

// saslname: "=2C" is ',' and "=3D" is '='; any other '=' is an error.
std::optional<std::string> sasl_name(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    auto code = s.substr(i + 1, 2);
    if (code == "2C")
      out.push_back(',');
    else if (code == "3D")
      out.push_back('=');
    else
      return std::nullopt;
    i += 2;
  }
  return out;
}

}  // namespace

ScramServer::ScramServer(std::string nonce) : server_nonce_(std::move(nonce)) {
  if (server_nonce_.empty()) server_nonce_ = base64(random_bytes(24));
}

std::expected<std::string, std::string> ScramServer::first(std::string_view msg, const Lookup& lookup) {
  if (first_done_) return Unexpected("client-first-message: sent twice");
  // gs2-header: "n,," (no channel binding) or "y,," (client could, thinks we cannot).
  if (msg.starts_with("p="))
    return Unexpected("client-first-message: channel binding is not supported (use gs2 header \"n,,\")");
  if (!msg.starts_with("n,") && !msg.starts_with("y,"))
    return Unexpected("client-first-message: must start with the gs2 header \"n,,\"");
  auto authzid_end = msg.find(',', 2);
  if (authzid_end == std::string_view::npos) return Unexpected("client-first-message: truncated gs2 header");
  if (authzid_end != 2) return Unexpected("client-first-message: an authorization identity is not supported");
  client_first_bare_ = std::string(msg.substr(authzid_end + 1));
  std::vector<std::pair<char, std::string_view>> attrs;
  if (!split_attributes(client_first_bare_, attrs) || attrs.size() < 2 || attrs[0].first != 'n' ||
      attrs[1].first != 'r')
    return Unexpected("client-first-message: expected n=<user>,r=<nonce>");
  auto user = sasl_name(attrs[0].second);
  if (!user || user->empty()) return Unexpected("client-first-message: invalid user name");
  if (attrs[1].second.empty() || attrs[1].second.find(',') != std::string_view::npos)
    return Unexpected("client-first-message: empty client nonce");
  user_ = std::move(*user);
  nonce_ = std::string(attrs[1].second) + server_nonce_;
  credentials_ = lookup(user_);
  // Unknown user: a stable-looking made-up salt; the proof can never match.
  ScramCredentials shown = credentials_.value_or(
      ScramCredentials{sha256("evmesh-scram-unknown:" + user_).substr(0, 16), 4096, random_bytes(32)});
  server_first_ = "r=" + nonce_ + ",s=" + base64(shown.salt) + ",i=" + std::to_string(shown.iterations);
  first_done_ = true;
  return server_first_;
}

std::expected<std::string, std::string> ScramServer::final(std::string_view msg) {
  if (!first_done_) return Unexpected("client-final-message before client-first-message");
  std::vector<std::pair<char, std::string_view>> attrs;
  if (!split_attributes(msg, attrs) || attrs.size() < 3 || attrs[0].first != 'c' || attrs[1].first != 'r' ||
      attrs.back().first != 'p')
    return Unexpected("client-final-message: expected c=<binding>,r=<nonce>,p=<proof>");
  // c= is base64 of the gs2 header we accepted: "n,," or "y,,".
  if (attrs[0].second != "biws" && attrs[0].second != "eSws")
    return Unexpected("client-final-message: channel binding data does not match the gs2 header");
  if (attrs[1].second != nonce_) return Unexpected("client-final-message: the nonce does not match");
  auto proof = unbase64(attrs.back().second);
  if (!proof || proof->size() != SHA256_DIGEST_LENGTH) return Unexpected("client-final-message: invalid proof");
  const auto without_proof = msg.substr(0, msg.rfind(",p="));
  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  if (!credentials_) return Unexpected("unknown user or wrong key");
  const auto client_key = hmac(credentials_->salted_password, "Client Key");
  const auto stored_key = sha256(client_key);
  const auto signature = hmac(stored_key, auth_message);
  std::string claimed(SHA256_DIGEST_LENGTH, '\0');
  for (std::size_t i = 0; i < claimed.size(); ++i) claimed[i] = static_cast<char>((*proof)[i] ^ signature[i]);
  if (CRYPTO_memcmp(sha256(claimed).data(), stored_key.data(), stored_key.size()) != 0)
    return Unexpected("unknown user or wrong key");
  const auto server_key = hmac(credentials_->salted_password, "Server Key");
  return "v=" + base64(hmac(server_key, auth_message));
}

}  // namespace evmesh::control
