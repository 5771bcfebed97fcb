#include "evmesh/control/scram.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "evmesh/control/auth.h"

namespace evmesh::control {
namespace {

// RFC 7677, section 3: user "user", password "pencil".
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::string raw_salt() {
  unsigned char out[32];
  int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>("W22ZaJ0SNY7soEsUEjb6gQ=="), 24);
  return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n) - 2);
}

ScramServer::Lookup pencil() {
  return [](std::string_view user) -> std::optional<ScramCredentials> {
    if (user != "user") return std::nullopt;
    // The stored pbkdf2-sha256 hash of "pencil" with the RFC's salt is SaltedPassword.
    std::string hex;
    for (unsigned char c : raw_salt()) hex += fmt::format("{:02x}", c);
    unsigned char dk[32];
    PKCS5_PBKDF2_HMAC("pencil", 6, reinterpret_cast<const unsigned char*>(raw_salt().data()), 16, 4096,
                      EVP_sha256(), 32, dk);
    std::string dk_hex;
    for (unsigned char c : dk) dk_hex += fmt::format("{:02x}", c);
    return scram_credentials_of("pbkdf2-sha256$4096$" + hex + "$" + dk_hex);
  };
}

TEST(Scram, Rfc7677ExampleExchange) {
  ScramServer s{std::string(kServerNonce)};
  auto first = s.first(kClientFirst, pencil());
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(*first, kServerFirst);
  EXPECT_EQ(s.user(), "user");
  auto final = s.final(kClientFinal);
  ASSERT_TRUE(final) << final.error();
  EXPECT_EQ(*final, kServerFinal);
}

TEST(Scram, WrongProofUnknownUserAndBadMessagesAreRefusedWithAReason) {
  {
    ScramServer s{std::string(kServerNonce)};
    ASSERT_TRUE(s.first(kClientFirst, pencil()));
    std::string bad(kClientFinal);
    bad[bad.size() - 3] = bad[bad.size() - 3] == 'A' ? 'B' : 'A';
    EXPECT_EQ(s.final(bad).error(), "unknown user or wrong key");
  }
  {
    ScramServer s{std::string(kServerNonce)};
    auto first = s.first("n,,n=nobody,r=abc", pencil());
    ASSERT_TRUE(first);  // an unknown user is not told so at this step
    EXPECT_NE(first->find(",s="), std::string::npos);
    EXPECT_EQ(s.final("c=biws,r=abc" + std::string(kServerNonce) + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
                  .error(),
              "unknown user or wrong key");
  }
  struct Case {
    std::string_view first, says;
  };
  for (auto c : {Case{"p=tls-unique,,n=u,r=a", "channel binding"}, Case{"x,,n=u,r=a", "gs2 header"},
                 Case{"n,a=admin,n=u,r=a", "authorization identity"}, Case{"n,,r=a,n=u", "n=<user>,r=<nonce>"},
                 Case{"n,,n=u=41,r=a", "invalid user name"}, Case{"n,,n=u", "n=<user>,r=<nonce>"}}) {
    ScramServer s;
    auto r = s.first(c.first, pencil());
    ASSERT_FALSE(r) << c.first;
    EXPECT_NE(r.error().find(c.says), std::string::npos) << c.first << ": " << r.error();
  }
  ScramServer s{std::string(kServerNonce)};
  EXPECT_FALSE(s.final(kClientFinal));  // before the first message
  ASSERT_TRUE(s.first(kClientFirst, pencil()));
  EXPECT_NE(s.final("c=biws,r=other,p=AAAA").error().find("nonce"), std::string::npos);
  EXPECT_NE(s.final("c=xyz,r=x,p=AAAA").error().find("channel binding"), std::string::npos);
  EXPECT_NE(s.final("r=x").error().find("expected"), std::string::npos);
}

TEST(Scram, CredentialsOnlyFromPbkdf2Hashes) {
  EXPECT_FALSE(scram_credentials_of(hash_sha256("k")));
  auto c = scram_credentials_of(hash_pbkdf2("k", 1000));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->iterations, 1000u);
  EXPECT_EQ(c->salt.size(), 16u);
  EXPECT_EQ(c->salted_password.size(), 32u);
}

}  // namespace
}  // namespace evmesh::control
