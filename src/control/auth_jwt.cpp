// JWT verification with OpenSSL (see auth.h for the rules). Why not libjwt: its
// 1.x decode takes the algorithm from the token header, so every caller must
// re-check it to avoid the HS256-with-an-RSA-public-key forgery; JWS compact
// serialisation is small enough to verify directly with the primitives we already
// link for TLS, with the algorithm pinned per issuer before any crypto runs.
#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evmesh/control/auth.h"

namespace evmesh::control {

struct JwtVerifier {
  JwtIssuerConfig config;
  std::shared_ptr<EVP_PKEY> rsa_key;  // RS256
};

namespace {

constexpr std::size_t kMaxTokenBytes = 8 << 10;

std::unexpected<Error> denied(std::string what) {
  return fail(Errc::unauthenticated, "bearer token: " + std::move(what));
}

// RFC 4648 section 5, no padding (JWS); nullopt on any other byte.
std::optional<std::string> base64url_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = int(i);
    return t;
  }();
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    const int v = table[c];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

struct Parts {
  std::string_view signing_input;  // header.payload
  nlohmann::json header, claims;
  std::string signature;
};

Result<Parts> split(std::string_view token) {
  if (token.size() > kMaxTokenBytes)
    return denied(fmt::format("longer than {} bytes", kMaxTokenBytes));
  const auto d1 = token.find('.');
  const auto d2 = d1 == token.npos ? d1 : token.find('.', d1 + 1);
  if (d2 == token.npos || token.find('.', d2 + 1) != token.npos)
    return denied("not a JWT (expected three base64url parts separated by dots)");
  Parts p;
  p.signing_input = token.substr(0, d2);
  auto header = base64url_decode(token.substr(0, d1));
  auto payload = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = base64url_decode(token.substr(d2 + 1));
  if (!header || !payload || !signature) return denied("a part is not valid base64url");
  p.header = nlohmann::json::parse(*header, nullptr, false);
  p.claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!p.header.is_object()) return denied("the header is not a JSON object");
  if (!p.claims.is_object()) return denied("the payload is not a JSON object");
  p.signature = std::move(*signature);
  return p;
}

bool verify_hs256(const std::string& secret, const Parts& p) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(p.signing_input.data()), p.signing_input.size(),
            mac, &len))
    return false;
  return p.signature.size() == len && CRYPTO_memcmp(mac, p.signature.data(), len) == 0;
}

bool verify_rs256(EVP_PKEY* key, const Parts& p) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(p.signature.data()),
                          p.signature.size(),
                          reinterpret_cast<const unsigned char*>(p.signing_input.data()),
                          p.signing_input.size()) == 1;
}

// A NumericDate claim (seconds since the epoch, integer or fraction).
std::optional<double> numeric_date(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

Result<void> check_audience(const nlohmann::json& claims, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return {};
  auto it = claims.find("aud");
  if (it == claims.end()) return denied("no aud claim (expected one of the configured audiences)");
  auto named = [&](const nlohmann::json& v) {
    return v.is_string() && std::ranges::find(wanted, v.get<std::string>()) != wanted.end();
  };
  if (named(*it)) return {};
  if (it->is_array())
    for (const auto& v : *it)
      if (named(v)) return {};
  return denied("audience not accepted: aud " + it->dump() + " names none of the configured audiences");
}

}  // namespace

Result<std::shared_ptr<const JwtVerifier>> make_jwt_verifier(const JwtIssuerConfig& config) {
  auto v = std::make_shared<JwtVerifier>();
  v->config = config;
  if (config.algorithm == "HS256") {
    if (config.secret.size() < 32)
      return fail(Errc::invalid_format,
                  "the HS256 secret must be at least 32 bytes (RFC 7518 section 3.2)", "secret");
  } else if (config.algorithm == "RS256") {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(config.public_key_pem.data(), static_cast<int>(config.public_key_pem.size())),
        BIO_free);
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!key)
      return fail(Errc::invalid_format,
                  "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)", "public_key_file");
    v->rsa_key.reset(key, EVP_PKEY_free);
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
      return fail(Errc::invalid_format, "RS256 needs an RSA public key", "public_key_file");
    if (EVP_PKEY_bits(key) < 2048)
      return fail(Errc::invalid_format, "the RSA key must have at least 2048 bits", "public_key_file");
  } else {
    return fail(Errc::invalid_format, "algorithm must be HS256 or RS256", "algorithm");
  }
  return std::shared_ptr<const JwtVerifier>(std::move(v));
}

Result<std::string> jwt_unverified_issuer(std::string_view token) {
  auto p = split(token);
  if (!p) return std::unexpected(p.error());
  auto it = p->claims.find("iss");
  if (it == p->claims.end() || !it->is_string()) return denied("no iss claim");
  return it->get<std::string>();
}

Result<std::string> verify_jwt(const JwtVerifier& v, std::string_view token,
                               std::chrono::system_clock::time_point now) {
  auto p = split(token);
  if (!p) return std::unexpected(p.error());
  const auto& cfg = v.config;
  auto alg = p->header.find("alg");
  if (alg == p->header.end() || !alg->is_string())
    return denied("the header has no alg");
  if (*alg != cfg.algorithm)
    return denied(fmt::format("algorithm {} not accepted for issuer {} (configured: {})",
                              alg->dump(), cfg.issuer, cfg.algorithm));
  const bool valid = cfg.algorithm == "HS256" ? verify_hs256(cfg.secret, *p)
                                              : verify_rs256(v.rsa_key.get(), *p);
  if (!valid) return denied("signature verification failed");

  // Claims only count once the signature holds.
  auto iss = p->claims.find("iss");
  if (iss == p->claims.end() || !iss->is_string() || *iss != cfg.issuer)
    return denied("issuer not accepted");
  const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(cfg.leeway.count());
  auto exp = numeric_date(p->claims, "exp");
  if (!exp) return denied("no exp claim (tokens without an expiry are refused)");
  if (t > *exp + leeway) return denied(fmt::format("expired at {:.0f} (now {:.0f})", *exp, t));
  if (auto nbf = numeric_date(p->claims, "nbf"); nbf && t + leeway < *nbf)
    return denied(fmt::format("not valid before {:.0f} (now {:.0f})", *nbf, t));
  if (auto aud = check_audience(p->claims, cfg.audiences); !aud) return std::unexpected(aud.error());
  auto who = p->claims.find(cfg.principal_claim);
  if (who == p->claims.end() || !who->is_string() || who->get_ref<const std::string&>().empty())
    return denied("claim '" + cfg.principal_claim + "' (the principal) is missing or not a string");
  return cfg.principal_prefix + who->get<std::string>();
}

}  // namespace evmesh::control
