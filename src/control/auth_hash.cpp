// Stored secret hashes (see auth.h): sha256:<hex> and pbkdf2-sha256$iter$salt$hash.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>

#include "evmesh/control/auth.h"
#include "evmesh/control/scram.h"

namespace evmesh::control {
namespace {

constexpr std::string_view kSha256 = "sha256:";
constexpr std::string_view kPbkdf2 = "pbkdf2-sha256$";
// Below this PBKDF2 protects little; above it one check takes seconds.
constexpr std::uint32_t kMinIterations = 1'000, kMaxIterations = 10'000'000;

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xF]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || end != hex.data() + 2 * i + 2) return std::nullopt;
    out[i] = static_cast<char>(v);
  }
  return out;
}

struct Pbkdf2 {
  std::uint32_t iterations;
  std::string salt, hash;  // raw bytes
};

Result<Pbkdf2> parse_pbkdf2(std::string_view s) {
  const auto bad = [](std::string what) {
    return fail(Errc::invalid_format,
                "pbkdf2-sha256 hash: " + what +
                    " (expected pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>)");
  };
  s.remove_prefix(kPbkdf2.size());
  const auto d1 = s.find('$'), d2 = s.find('$', d1 == s.npos ? d1 : d1 + 1);
  if (d1 == s.npos || d2 == s.npos) return bad("needs three $-separated parts");
  Pbkdf2 out{};
  auto iter = s.substr(0, d1);
  auto [end, ec] = std::from_chars(iter.data(), iter.data() + iter.size(), out.iterations);
  if (ec != std::errc{} || end != iter.data() + iter.size() || out.iterations < kMinIterations ||
      out.iterations > kMaxIterations)
    return bad("iterations must be an integer from 1000 to 10000000");
  auto salt = from_hex(s.substr(d1 + 1, d2 - d1 - 1));
  if (!salt || salt->size() < 8) return bad("the salt must be at least 8 bytes of hex");
  auto hash = from_hex(s.substr(d2 + 1));
  if (!hash || hash->size() != 32) return bad("the hash must be 32 bytes (64 hex digits)");
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

std::string sha256_raw(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

std::string pbkdf2_raw(std::string_view secret, std::string_view salt, std::uint32_t iterations) {
  unsigned char out[32];
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        sizeof out, out) != 1)
    return {};
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string hash_sha256(std::string_view secret) {
  const auto raw = sha256_raw(secret);
  return std::string(kSha256) + to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string hash_pbkdf2(std::string_view secret, std::uint32_t iterations) {
  const auto salt = *from_hex(random_hex(16));
  const auto hash = pbkdf2_raw(secret, salt, iterations);
  return std::string(kPbkdf2) + std::to_string(iterations) + "$" +
         to_hex(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()) + "$" +
         to_hex(reinterpret_cast<const unsigned char*>(hash.data()), hash.size());
}

Result<void> check_hash(std::string_view stored) {
  if (stored.starts_with(kSha256)) {
    auto raw = from_hex(stored.substr(kSha256.size()));
    if (!raw || raw->size() != 32)
      return fail(Errc::invalid_format, "sha256 hash: expected sha256:<64 hex digits>");
    return {};
  }
  if (stored.starts_with(kPbkdf2)) {
    if (auto p = parse_pbkdf2(stored); !p) return std::unexpected(p.error());
    return {};
  }
  return fail(Errc::invalid_format,
              "unknown hash scheme: expected sha256:<hex> or pbkdf2-sha256$... "
              "(make one with `evmeshctl hash-key`); plain keys are not accepted");
}

std::optional<ScramCredentials> scram_credentials_of(std::string_view stored) {
  if (!stored.starts_with(kPbkdf2)) return std::nullopt;
  auto p = parse_pbkdf2(stored);
  if (!p) return std::nullopt;
  return ScramCredentials{std::move(p->salt), p->iterations, std::move(p->hash)};
}

bool verify_secret(std::string_view secret, std::string_view stored) {
  if (stored.starts_with(kSha256)) {
    auto expected = from_hex(stored.substr(kSha256.size()));
    return expected && equal_constant_time(sha256_raw(secret), *expected);
  }
  if (stored.starts_with(kPbkdf2)) {
    auto p = parse_pbkdf2(stored);
    return p && equal_constant_time(pbkdf2_raw(secret, p->salt, p->iterations), p->hash);
  }
  return false;
}

}  // namespace evmesh::control
