// The Authenticator (see auth.h): credentials -> principal.
#include "evmesh/control/auth.h"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace evmesh::control {
namespace {

std::unexpected<Error> denied(std::string what) {
  return fail(Errc::unauthenticated, std::move(what));
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

std::optional<std::string> base64_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = int(i);
    return t;
  }();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    if (table[c] < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(table[c]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

bool looks_like_jwt(std::string_view token) { return std::ranges::count(token, '.') == 2; }

}  // namespace

struct Authenticator::Keys {
  // sha256 keys by their digest text: a token is hashed once and looked up.
  std::unordered_map<std::string, std::string> sha256_keys;  // hash -> principal
  // Every key by principal, for password checks (the user names the principal).
  std::multimap<std::string, std::string, std::less<>> by_principal;  // principal -> hash
  std::map<std::string, std::shared_ptr<const JwtVerifier>, std::less<>> jwt;  // by issuer
  MtlsConfig mtls;
};

Authenticator::~Authenticator() = default;

Result<std::shared_ptr<const Authenticator>> Authenticator::make(const AuthConfig& config,
                                                                 bool acl_exists) {
  auto keys = std::make_unique<Keys>();
  for (std::size_t i = 0; i < config.api_keys.size(); ++i) {
    const auto& k = config.api_keys[i];
    const auto where = fmt::format("auth.api_keys[{}]", i);
    if (auto ok = check_hash(k.hash); !ok)
      return fail(Errc::invalid_format, ok.error().message, where + ".hash");
    if (k.hash.starts_with("sha256:")) {
      if (!keys->sha256_keys.emplace(k.hash, k.principal).second)
        return fail(Errc::invalid_format, "the same key hash is declared twice", where + ".hash");
    }
    keys->by_principal.emplace(k.principal, k.hash);
  }
  for (std::size_t i = 0; i < config.jwt.size(); ++i) {
    const auto where = fmt::format("auth.jwt[{}]", i);
    auto v = make_jwt_verifier(config.jwt[i]);
    if (!v) return fail(Errc::invalid_format, v.error().message, where + "." + v.error().pointer);
    if (!keys->jwt.emplace(config.jwt[i].issuer, std::move(*v)).second)
      return fail(Errc::invalid_format, "issuer '" + config.jwt[i].issuer + "' is configured twice",
                  where + ".issuer");
  }
  keys->mtls = config.mtls;
  std::shared_ptr<Authenticator> a(new Authenticator());
  a->anonymous_ = config.anonymous.value_or(!acl_exists);
  a->keys_ = std::move(keys);
  return std::shared_ptr<const Authenticator>(std::move(a));
}

bool Authenticator::has_credentials() const {
  return !keys_->by_principal.empty() || !keys_->jwt.empty();
}

Result<Principal> Authenticator::authenticate(const Credentials& c) const {
  std::string_view auth = c.authorization;
  if (!auth.empty()) {
    if (iequals_prefix(auth, "bearer ")) return authenticate_token(auth.substr(7));
    if (iequals_prefix(auth, "basic ")) {
      auto decoded = base64_decode(auth.substr(6));
      const auto colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos)
        return denied("basic credentials: not base64 of user:password");
      return authenticate_password(std::string_view(*decoded).substr(0, colon),
                                   std::string_view(*decoded).substr(colon + 1));
    }
    return denied("authorization: unsupported scheme (use Bearer or Basic)");
  }
  if (c.certificate && c.certificate->present()) return authenticate_certificate(*c.certificate);
  if (anonymous_) return Principal{std::string(kAnonymous), "anonymous"};
  return denied("no credentials: send Authorization: Bearer <api key or JWT>, Basic, "
                "or a client certificate (anonymous access is off)");
}

Result<Principal> Authenticator::authenticate_token(std::string_view token) const {
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return denied("bearer token: empty");
  if (looks_like_jwt(token)) {
    auto issuer = jwt_unverified_issuer(token);
    if (!issuer) return std::unexpected(issuer.error());
    auto v = keys_->jwt.find(*issuer);
    if (v == keys_->jwt.end()) return denied("bearer token: issuer not accepted");
    auto who = verify_jwt(*v->second, token, std::chrono::system_clock::now());
    if (!who) return std::unexpected(who.error());
    return Principal{std::move(*who), "jwt"};
  }
  auto it = keys_->sha256_keys.find(hash_sha256(token));
  if (it == keys_->sha256_keys.end()) return denied("bearer token: unknown API key");
  return Principal{it->second, "api-key"};
}

Result<Principal> Authenticator::authenticate_password(std::string_view user,
                                                       std::string_view password) const {
  if (looks_like_jwt(password) && !keys_->jwt.empty()) return authenticate_token(password);
  auto [first, last] = keys_->by_principal.equal_range(user);
  if (first == last) return denied("password: unknown user or wrong password");
  for (auto it = first; it != last; ++it)
    if (verify_secret(password, it->second)) return Principal{std::string(user), "password"};
  return denied("password: unknown user or wrong password");
}

std::optional<ScramCredentials> Authenticator::scram_credentials(std::string_view principal) const {
  auto [first, last] = keys_->by_principal.equal_range(principal);
  for (auto it = first; it != last; ++it)
    if (auto c = scram_credentials_of(it->second)) return c;
  return std::nullopt;
}

Result<Principal> Authenticator::authenticate_certificate(const PeerCertificate& cert) const {
  const auto& from = keys_->mtls.principal == "dn" ? cert.subject_dn : cert.common_name;
  if (from.empty())
    return denied("client certificate: the subject has no " +
                  std::string(keys_->mtls.principal == "dn" ? "DN" : "CN"));
  return Principal{keys_->mtls.prefix + from, "mtls"};
}

}  // namespace evmesh::control
