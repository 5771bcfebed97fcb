// Field encryption for the encrypt-fields policy action (docs/policies.md).
//
// A field's JSON value (any type) is serialised, encrypted with AES-256-GCM (OpenSSL
// EVP, a fresh random 96-bit IV per field, no associated data) and replaced by an
// envelope object:
//
//   {"$enc": "aes-256-gcm", "kid": "k2", "iv": "<base64>", "ct": "<base64>", "tag": "<base64>"}
//
// Keys come from a key file (YAML) with ids, so keys can rotate: new envelopes use
// `active`, older ones still decrypt while their key stays in the file.
//
//   active: k2
//   keys:
//     k1: "<base64 of 32 random bytes>"     # e.g. `openssl rand -base64 32`
//     k2: "..."
//
// Thread-safety: a KeyRing is immutable; every function may run concurrently.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/error.h"

namespace evmesh::control {

class KeyRing {
 public:
  // Errors (Errc::invalid_format) name the file and the key id that is wrong.
  static Result<KeyRing> load(const std::filesystem::path& file);
  // From text (YAML); `name` is used in errors.
  static Result<KeyRing> parse(const std::string& text, const std::string& name);

  const std::string& active() const { return active_; }
  const std::string* key(const std::string& kid) const;  // 32 raw bytes, or null

 private:
  std::string active_;
  std::map<std::string, std::string> keys_;
};

// The envelope for `value` under the active key.
Result<nlohmann::json> encrypt_value(const KeyRing& keys, const nlohmann::json& value);
// True when `value` is an envelope object (has "$enc").
bool is_envelope(const nlohmann::json& value);
// The value an envelope holds. Errors: unknown kid, malformed envelope, failed
// authentication (wrong key or tampered ciphertext).
Result<nlohmann::json> decrypt_value(const KeyRing& keys, const nlohmann::json& envelope);
// Replaces every envelope found anywhere in `doc` by its value; returns how many.
Result<std::size_t> decrypt_all(const KeyRing& keys, nlohmann::json& doc);

}  // namespace evmesh::control
