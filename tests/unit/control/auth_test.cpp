#include "evmesh/control/auth.h"

#include <gtest/gtest.h>

#include <chrono>

#include "jwt_test_util.h"

namespace evmesh::control {
namespace {

using namespace std::chrono;
using testing_util::RsaKey;
using testing_util::mint_hs256;
using nlohmann::json;

const std::string kSecret = "0123456789abcdef0123456789abcdef-hs256";

std::int64_t now_s() { return duration_cast<seconds>(system_clock::now().time_since_epoch()).count(); }

json claims(std::int64_t exp_in = 300) {
  return {{"iss", "https://idp.example"}, {"aud", "evmesh"}, {"sub", "service:orders"},
          {"exp", now_s() + exp_in}, {"iat", now_s()}};
}

JwtIssuerConfig hs256() {
  JwtIssuerConfig c;
  c.issuer = "https://idp.example";
  c.audiences = {"evmesh"};
  c.algorithm = "HS256";
  c.secret = kSecret;
  return c;
}

void expect_denied(const Result<std::string>& r, std::string_view what) {
  ASSERT_FALSE(r.has_value()) << "accepted, wanted: " << what;
  EXPECT_EQ(r.error().code, Errc::unauthenticated);
  EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
}

Result<std::string> verify(const JwtIssuerConfig& c, const std::string& token) {
  auto v = make_jwt_verifier(c);
  EXPECT_TRUE(v.has_value()) << v.error().message;
  return verify_jwt(**v, token, system_clock::now());
}

TEST(SecretHash, Sha256AndPbkdf2VerifyOnlyTheirSecret) {
  const auto sha = hash_sha256("key-1");
  EXPECT_TRUE(sha.starts_with("sha256:"));
  EXPECT_EQ(sha.size(), 7u + 64u);
  EXPECT_TRUE(verify_secret("key-1", sha));
  EXPECT_FALSE(verify_secret("key-2", sha));
  EXPECT_FALSE(verify_secret("", sha));

  const auto pbkdf2 = hash_pbkdf2("hunter2", 1000);
  EXPECT_TRUE(pbkdf2.starts_with("pbkdf2-sha256$1000$"));
  EXPECT_TRUE(verify_secret("hunter2", pbkdf2));
  EXPECT_FALSE(verify_secret("hunter3", pbkdf2));
  EXPECT_NE(hash_pbkdf2("hunter2", 1000), pbkdf2) << "fresh salt each time";
}

TEST(SecretHash, MalformedHashesAreRejectedWithTheReason) {
  auto message = [](std::string_view h) {
    auto r = check_hash(h);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(message(hash_sha256("x")), "ok");
  EXPECT_NE(message("sha256:abc").find("64 hex digits"), std::string::npos);
  EXPECT_NE(message("plaintext-key").find("unknown hash scheme"), std::string::npos);
  EXPECT_NE(message("pbkdf2-sha256$10$0011223344556677$00").find("iterations"), std::string::npos);
  EXPECT_NE(message("pbkdf2-sha256$1000$00$" + std::string(64, 'a')).find("salt"), std::string::npos);
  EXPECT_NE(message("pbkdf2-sha256$1000$0011223344556677$abcd").find("32 bytes"), std::string::npos);
  EXPECT_NE(message("pbkdf2-sha256$1000").find("three"), std::string::npos);
  EXPECT_FALSE(verify_secret("x", "sha256:zz"));
}

TEST(Jwt, Hs256ValidTokenNamesThePrincipal) {
  auto who = verify(hs256(), mint_hs256(claims(), kSecret));
  ASSERT_TRUE(who.has_value()) << who.error().message;
  EXPECT_EQ(*who, "service:orders");
  auto c = hs256();
  c.principal_claim = "client_id";
  c.principal_prefix = "jwt:";
  auto with_claim = claims();
  with_claim["client_id"] = "billing";
  EXPECT_EQ(verify(c, mint_hs256(with_claim, kSecret)).value_or("?"), "jwt:billing");
}

TEST(Jwt, ExpiredNotYetValidAndMissingExpAreRefused) {
  expect_denied(verify(hs256(), mint_hs256(claims(-120), kSecret)), "expired");
  auto within_leeway = verify(hs256(), mint_hs256(claims(-10), kSecret));
  EXPECT_TRUE(within_leeway.has_value()) << "30s leeway absorbs clock skew";
  auto early = claims();
  early["nbf"] = now_s() + 600;
  expect_denied(verify(hs256(), mint_hs256(early, kSecret)), "not valid before");
  auto no_exp = claims();
  no_exp.erase("exp");
  expect_denied(verify(hs256(), mint_hs256(no_exp, kSecret)), "no exp claim");
}

TEST(Jwt, WrongAudienceIssuerAlgorithmOrSignatureAreRefused) {
  auto aud = claims();
  aud["aud"] = "someone-else";
  expect_denied(verify(hs256(), mint_hs256(aud, kSecret)), "audience not accepted");
  aud["aud"] = json::array({"a", "evmesh"});
  EXPECT_TRUE(verify(hs256(), mint_hs256(aud, kSecret)).has_value()) << "aud list naming us";
  auto iss = claims();
  iss["iss"] = "https://evil.example";
  expect_denied(verify(hs256(), mint_hs256(iss, kSecret)), "issuer not accepted");
  expect_denied(verify(hs256(), mint_hs256(claims(), kSecret, {{"alg", "none"}})), "algorithm");
  expect_denied(verify(hs256(), mint_hs256(claims(), kSecret + "x")), "signature verification failed");
  auto token = mint_hs256(claims(), kSecret);
  token[token.find('.') + 3] ^= 1;  // tamper with the payload
  auto tampered = verify(hs256(), token);
  EXPECT_FALSE(tampered.has_value());
  expect_denied(verify(hs256(), "a.b"), "not a JWT");
  expect_denied(verify(hs256(), "!!.??.**"), "base64url");
  expect_denied(verify(hs256(), std::string(9000, 'a')), "longer than");
}

TEST(Jwt, Rs256VerifiesWithThePublicKeyAndRefusesHs256Confusion) {
  RsaKey key;
  JwtIssuerConfig c = hs256();
  c.algorithm = "RS256";
  c.secret.clear();
  c.public_key_pem = key.public_pem();
  auto who = verify(c, key.mint(claims()));
  ASSERT_TRUE(who.has_value()) << who.error().message;
  EXPECT_EQ(*who, "service:orders");
  // The classic forgery: HS256 signed with the public key text as the secret.
  expect_denied(verify(c, mint_hs256(claims(), c.public_key_pem)), "algorithm \"HS256\" not accepted");
  RsaKey other;
  expect_denied(verify(c, other.mint(claims())), "signature verification failed");
  expect_denied(verify(c, key.mint(claims(-100))), "expired");
}

TEST(Jwt, BadKeyMaterialIsAConfigError) {
  auto c = hs256();
  c.secret = "short";
  auto v = make_jwt_verifier(c);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("at least 32 bytes"), std::string::npos);
  c.algorithm = "RS256";
  c.public_key_pem = "not a pem";
  v = make_jwt_verifier(c);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().pointer, "public_key_file");
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AuthConfig c;
    c.api_keys = {{"service:payment-service", hash_sha256("pay-key"), 0},
                  {"device:7", hash_pbkdf2("s3cret", 1000), 0},
                  {"ops", hash_pbkdf2("pw", 1000), 0}};
    c.jwt = {hs256()};
    c.mtls.prefix = "cert:";
    auth = *Authenticator::make(c, /*acl_exists=*/true);
  }
  std::string principal(std::string_view authorization) {
    auto r = auth->authenticate({authorization, nullptr});
    return r ? r->name + "/" + r->method : "error: " + r.error().message;
  }
  std::shared_ptr<const Authenticator> auth;
};

TEST_F(AuthenticatorTest, BearerBasicAndCertificatesNameTheSamePrincipals) {
  EXPECT_EQ(principal("Bearer pay-key"), "service:payment-service/api-key");
  EXPECT_EQ(principal("bearer pay-key"), "service:payment-service/api-key");
  EXPECT_EQ(principal("Bearer " + mint_hs256(claims(), kSecret)), "service:orders/jwt");
  // Basic user:password = the MQTT username/password path. RFC 7617: the user ends at
  // the first colon, so "device:7:s3cret" is user "device".
  EXPECT_EQ(principal("Basic b3BzOnB3"), "ops/password");  // ops:pw
  EXPECT_EQ(principal("Basic ZGV2aWNlOjc6czNjcmV0"), "error: password: unknown user or wrong password");
  auto pw = auth->authenticate_password("device:7", "s3cret");
  ASSERT_TRUE(pw.has_value()) << pw.error().message;
  EXPECT_EQ(pw->name, "device:7");
  EXPECT_EQ(auth->authenticate_password("service:payment-service", "pay-key")->name,
            "service:payment-service");
  EXPECT_EQ(auth->authenticate_password("anyone", mint_hs256(claims(), kSecret))->name,
            "service:orders");
  PeerCertificate cert{"CN=orders,O=Example", "orders"};
  auto by_cert = auth->authenticate({"", &cert});
  ASSERT_TRUE(by_cert.has_value());
  EXPECT_EQ(by_cert->name, "cert:orders");
  EXPECT_EQ(by_cert->method, "mtls");
}

TEST_F(AuthenticatorTest, BadCredentialsAreUnauthenticatedWithTheReason) {
  EXPECT_EQ(principal("Bearer nope"), "error: bearer token: unknown API key");
  EXPECT_EQ(principal("Bearer "), "error: bearer token: empty");
  EXPECT_EQ(principal("Digest x"), "error: authorization: unsupported scheme (use Bearer or Basic)");
  EXPECT_EQ(principal("Basic !!!"), "error: basic credentials: not base64 of user:password");
  EXPECT_EQ(principal("Bearer " + mint_hs256(claims(-600), kSecret)).substr(0, 30),
            "error: bearer token: expired a");
  EXPECT_EQ(auth->authenticate_password("device:7", "wrong").error().code, Errc::unauthenticated);
  auto none = auth->authenticate({});
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("anonymous access is off"), std::string::npos);
}

TEST(Authenticator, AnonymousIsOnWithoutAclOffWithOneAndExplicitWins) {
  AuthConfig c;
  EXPECT_TRUE((*Authenticator::make(c, false))->anonymous_allowed());
  EXPECT_FALSE((*Authenticator::make(c, true))->anonymous_allowed());
  c.anonymous = true;
  EXPECT_TRUE((*Authenticator::make(c, true))->anonymous_allowed());
  auto anon = (*Authenticator::make(c, true))->authenticate({});
  ASSERT_TRUE(anon.has_value());
  EXPECT_EQ(anon->name, "anonymous");
  c.anonymous = false;
  EXPECT_FALSE((*Authenticator::make(c, false))->anonymous_allowed());
}

TEST(Authenticator, DuplicateKeysAndIssuersAreRefused) {
  AuthConfig c;
  c.api_keys = {{"a", hash_sha256("k"), 0}, {"b", hash_sha256("k"), 0}};
  auto r = Authenticator::make(c, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().pointer, "auth.api_keys[1].hash");
  AuthConfig j;
  j.jwt = {hs256(), hs256()};
  r = Authenticator::make(j, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().pointer, "auth.jwt[1].issuer");
}

}  // namespace
}  // namespace evmesh::control
