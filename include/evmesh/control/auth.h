// Authentication: who is calling. Every adapter turns what its protocol carries
// (an HTTP Authorization header, gRPC "authorization" metadata, MQTT username and
// password, a verified TLS client certificate) into a Principal through one
// Authenticator, so the same credentials name the same principal everywhere.
// docs/security.md is the user reference.
//
// Credentials, checked in this order (the first one present decides; a present but
// bad credential is an error, never a fall-back to the next one or to anonymous):
//   Authorization: Bearer <api key | JWT>   a token with two dots is a JWT
//   Authorization: Basic base64(user:pass)  = authenticate_password(user, pass)
//   TLS client certificate                  principal from the subject (mtls.principal)
//   nothing                                 "anonymous" when anonymous access is on
//
// Stored secrets (API keys, passwords) are hashes, never the secret itself:
//   sha256:<64 hex>                             for generated keys (>= 128 random bits)
//   pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>   salted and slow: for passwords
// `evmeshctl hash-key` makes either. Comparisons are constant-time.
//
// JWT (RFC 7519): HS256 (shared secret) and RS256 (RSA public key), verified with
// OpenSSL. The algorithm is fixed per configured issuer, never taken from the token
// (no "none", no HS256-with-the-RSA-key confusion). exp is required; nbf, iss, aud
// are checked; `leeway` absorbs clock skew.
//
// An Authenticator is immutable once built: any thread may call it; reload builds
// a new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evmesh/control/scram.h"
#include "evmesh/core/error.h"

namespace evmesh::control {

inline constexpr std::string_view kAnonymous = "anonymous";

struct Principal {
  std::string name;        // "service:payment-service"; "anonymous" when anonymous
  std::string method;      // how it was proven: api-key, password, jwt, mtls, anonymous
  bool anonymous() const { return method == "anonymous"; }
};

struct ApiKeyConfig {
  std::string principal;
  std::string hash;        // sha256:... or pbkdf2-sha256$...
  int line = 0;            // where it was declared (messages)
};

struct JwtIssuerConfig {
  std::string issuer;                  // required: the token's iss must equal it
  std::vector<std::string> audiences;  // the token's aud must name one; empty: aud not checked
  std::string algorithm;               // HS256 | RS256
  std::string secret;                  // HS256: the shared secret (from secret_file/secret_env)
  std::string public_key_pem;          // RS256: PEM text (from public_key_file)
  std::string principal_claim = "sub";
  std::string principal_prefix;        // prepended to the claim: "jwt:" + sub
  std::chrono::seconds leeway{30};
};

struct MtlsConfig {
  std::string principal = "cn";        // cn: the subject's CN; dn: the whole subject, RFC 2253
  std::string prefix;                  // prepended: "cert:" + CN
};

struct AuthConfig {
  // nullopt: anonymous when no ACL is configured, refused once any exists.
  std::optional<bool> anonymous;
  std::vector<ApiKeyConfig> api_keys;
  std::vector<JwtIssuerConfig> jwt;
  MtlsConfig mtls;
};

// What a TLS handshake proved about the client (empty when no certificate).
struct PeerCertificate {
  std::string subject_dn;  // RFC 2253, e.g. "CN=orders,O=Example"
  std::string common_name;
  bool present() const { return !subject_dn.empty(); }
};

// What one request or connection carries; any part may be empty.
struct Credentials {
  std::string_view authorization;      // HTTP Authorization / gRPC "authorization" value
  const PeerCertificate* certificate = nullptr;
};

class Authenticator {
 public:
  // Validates keys (PEM, hash syntax); errors name the key ("auth.jwt[0].public_key_file").
  // `acl_exists` decides the default of anonymous access.
  static Result<std::shared_ptr<const Authenticator>> make(const AuthConfig& config,
                                                           bool acl_exists);
  ~Authenticator();

  // Errc::unauthenticated, message saying what is wrong ("bearer token: expired at ...").
  Result<Principal> authenticate(const Credentials& credentials) const;
  // A token alone (Bearer value): an API key, or a JWT when it has two dots.
  Result<Principal> authenticate_token(std::string_view token) const;
  // MQTT CONNECT and HTTP Basic: `user` names an api_keys principal and `password` is
  // its key; or `password` is a JWT (any user name; the token names the principal).
  Result<Principal> authenticate_password(std::string_view user, std::string_view password) const;
  Result<Principal> authenticate_certificate(const PeerCertificate& cert) const;
  // SCRAM-SHA-256 (scram.h): the credentials of `principal`'s first pbkdf2-sha256 key;
  // nullopt when it has none (unknown, or sha256 keys only).
  std::optional<ScramCredentials> scram_credentials(std::string_view principal) const;

  bool anonymous_allowed() const { return anonymous_; }
  // True when any credential kind is configured.
  bool has_credentials() const;

 private:
  struct Keys;
  Authenticator() = default;
  bool anonymous_ = false;
  std::unique_ptr<const Keys> keys_;
};

// Secret hashes (auth_hash.cpp).
// sha256:<hex> of `secret`.
std::string hash_sha256(std::string_view secret);
// pbkdf2-sha256$<iterations>$<salt hex>$<hash hex> with a fresh random 16-byte salt.
std::string hash_pbkdf2(std::string_view secret, std::uint32_t iterations = 210'000);
// Checks the syntax of a stored hash; the error says what is wrong.
Result<void> check_hash(std::string_view stored);
// Constant-time comparison of `secret` against a stored hash (false when malformed).
bool verify_secret(std::string_view secret, std::string_view stored);
// `bytes` random bytes as lower-case hex (OpenSSL RAND_bytes).
std::string random_hex(std::size_t bytes);

// JWT verification (auth_jwt.cpp): the principal for a token valid under `issuer`,
// checked at `now`. Errors are unauthenticated and name the failing check.
struct JwtVerifier;
// Errors: invalid_format naming the bad key material.
Result<std::shared_ptr<const JwtVerifier>> make_jwt_verifier(const JwtIssuerConfig& config);
// The token's iss claim without verifying anything (to pick the verifier).
Result<std::string> jwt_unverified_issuer(std::string_view token);
Result<std::string> verify_jwt(const JwtVerifier& verifier, std::string_view token,
                               std::chrono::system_clock::time_point now);

}  // namespace evmesh::control
