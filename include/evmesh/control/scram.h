// SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding: what
// MQTT 5.0 enhanced authentication carries as Authentication Method "SCRAM-SHA-256"
// (docs/protocols.md). The secret is an auth.api_keys pbkdf2-sha256 key: PBKDF2-HMAC-
// SHA256 with a 32-byte output is SCRAM's Hi(), so the stored hash is SaltedPassword
// and the key itself never crosses the wire.
//
//   client-first  n,,n=device,r=<client nonce>
//   server-first  r=<client nonce><server nonce>,s=<salt base64>,i=<iterations>
//   client-final  c=biws,r=<nonce>,p=<proof base64>
//   server-final  v=<server signature base64>
//
// An unknown user gets a made-up salt and always fails at the proof, so the exchange
// does not tell which users exist. One ScramServer per exchange; not thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace evmesh::control {

inline constexpr std::string_view kScramSha256 = "SCRAM-SHA-256";

struct ScramCredentials {
  std::string salt;             // raw bytes
  std::uint32_t iterations = 0;
  std::string salted_password;  // raw 32 bytes
};

// The SCRAM credentials of a stored pbkdf2-sha256 hash; nullopt for other schemes.
std::optional<ScramCredentials> scram_credentials_of(std::string_view stored_hash);

class ScramServer {
 public:
  using Lookup = std::function<std::optional<ScramCredentials>(std::string_view user)>;
  // `nonce`: the server nonce (tests); empty = 24 random bytes.
  explicit ScramServer(std::string nonce = {});

  // client-first-message -> server-first-message; the error says what is wrong.
  std::expected<std::string, std::string> first(std::string_view client_first, const Lookup& lookup);
  // client-final-message -> server-final-message; the error says what is wrong.
  std::expected<std::string, std::string> final(std::string_view client_final);
  const std::string& user() const { return user_; }

 private:
  std::string server_nonce_, user_, nonce_, client_first_bare_, server_first_;
  std::optional<ScramCredentials> credentials_;  // nullopt: unknown user
  bool first_done_ = false;
};

}  // namespace evmesh::control
