#include "evmesh/control/field_crypto.h"

#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <yaml-cpp/yaml.h>

#include "evmesh/codec/base64.h"

namespace evmesh::control {
namespace {

using nlohmann::json;
constexpr std::size_t kKeyBytes = 32, kIvBytes = 12, kTagBytes = 16;
constexpr std::string_view kAlgorithm = "aes-256-gcm";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

auto uchar(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }
auto uchar(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::unexpected<Error> bad_key_file(const std::string& name, const std::string& what) {
  return fail(Errc::invalid_format, name + ": " + what);
}

}  // namespace

Result<KeyRing> KeyRing::parse(const std::string& text, const std::string& name) try {
  const YAML::Node root = YAML::Load(text);
  if (!root.IsMap() || !root["keys"].IsMap() || root["keys"].size() == 0)
    return bad_key_file(name, "must be a mapping with `keys` (key id -> base64 of 32 bytes) and `active`");
  KeyRing ring;
  for (const auto& entry : root["keys"]) {
    const auto kid = entry.first.as<std::string>();
    if (!entry.second.IsScalar())
      return bad_key_file(name, "key '" + kid + "' must be a base64 string");
    auto raw = codec::base64_decode(entry.second.as<std::string>());
    if (!raw || raw->size() != kKeyBytes)
      return bad_key_file(name, "key '" + kid + "' must be the base64 of exactly 32 bytes (AES-256)");
    ring.keys_.emplace(kid, std::move(*raw));
  }
  if (!root["active"].IsScalar()) return bad_key_file(name, "`active` must name one of the keys");
  ring.active_ = root["active"].as<std::string>();
  if (!ring.keys_.contains(ring.active_))
    return bad_key_file(name, "`active` names '" + ring.active_ + "', which is not in `keys`");
  return ring;
} catch (const YAML::Exception& e) {  // syntax, or a key that is not a scalar
  return bad_key_file(name, "line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
}

Result<KeyRing> KeyRing::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return bad_key_file(file.string(), "cannot read the key file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string());
}

const std::string* KeyRing::key(const std::string& kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<json> encrypt_value(const KeyRing& keys, const json& value) {
  const std::string plain = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string iv(kIvBytes, '\0'), ct(plain.size(), '\0'), tag(kTagBytes, '\0');
  if (RAND_bytes(uchar(iv), static_cast<int>(iv.size())) != 1)
    return fail(Errc::internal, "encryption: no random bytes for the IV");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0, total = 0;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, uchar(*keys.key(keys.active())), uchar(iv)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), uchar(ct), &len, uchar(plain), static_cast<int>(plain.size())) == 1 &&
      (total = len, EVP_EncryptFinal_ex(ctx.get(), uchar(ct) + total, &len) == 1) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), uchar(tag)) == 1;
  if (!ok) return fail(Errc::internal, "encryption failed (OpenSSL)");
  return json{{"$enc", kAlgorithm},
              {"kid", keys.active()},
              {"iv", codec::base64_encode(iv)},
              {"ct", codec::base64_encode(ct)},
              {"tag", codec::base64_encode(tag)}};
}

bool is_envelope(const json& value) { return value.is_object() && value.contains("$enc"); }

Result<json> decrypt_value(const KeyRing& keys, const json& env) {
  auto member = [&](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (member("$enc") != std::string(kAlgorithm))
    return fail(Errc::invalid_format, "not an aes-256-gcm envelope (\"$enc\")");
  const auto kid = member("kid");
  if (!kid) return fail(Errc::invalid_format, "the envelope has no \"kid\"");
  const auto* key = keys.key(*kid);
  if (!key) return fail(Errc::not_found, "no key '" + *kid + "' in the key file");
  auto iv = member("iv") ? codec::base64_decode(*member("iv")) : std::nullopt;
  auto ct = member("ct") ? codec::base64_decode(*member("ct")) : std::nullopt;
  auto tag = member("tag") ? codec::base64_decode(*member("tag")) : std::nullopt;
  if (!iv || iv->size() != kIvBytes || !ct || !tag || tag->size() != kTagBytes)
    return fail(Errc::invalid_format, "the envelope's iv, ct or tag is missing or malformed");
  std::string plain(ct->size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0, total = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, uchar(*key), uchar(*iv)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), uchar(plain), &len, uchar(*ct), static_cast<int>(ct->size())) == 1 &&
      (total = len, EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), uchar(*tag)) == 1) &&
      EVP_DecryptFinal_ex(ctx.get(), uchar(plain) + total, &len) == 1;
  if (!ok) return fail(Errc::invalid_format, "authentication failed: wrong key or tampered envelope (kid '" + *kid + "')");
  auto value = json::parse(plain, nullptr, false);
  if (value.is_discarded()) return fail(Errc::invalid_format, "the decrypted value is not JSON");
  return value;
}

Result<std::size_t> decrypt_all(const KeyRing& keys, json& doc) {
  if (is_envelope(doc)) {
    auto value = decrypt_value(keys, doc);
    if (!value) return std::unexpected(value.error());
    doc = std::move(*value);
    return 1;
  }
  std::size_t n = 0;
  if (doc.is_object() || doc.is_array()) {
    for (auto& child : doc) {
      auto k = decrypt_all(keys, child);
      if (!k) return k;
      n += *k;
    }
  }
  return n;
}

}  // namespace evmesh::control
