#include "evmesh/codec/base64.h"

#include <gtest/gtest.h>

namespace evmesh::codec {
namespace {

struct Vector {
  std::string_view plain, encoded;
};

// RFC 4648 section 10 test vectors.
constexpr Vector kRfcVectors[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64, EncodesRfcVectors) {
  for (auto [plain, encoded] : kRfcVectors) EXPECT_EQ(base64_encode(plain), encoded) << plain;
}

TEST(Base64, DecodesRfcVectors) {
  for (auto [plain, encoded] : kRfcVectors) EXPECT_EQ(base64_decode(encoded), plain) << encoded;
}

TEST(Base64, RoundTripsEveryByteValueAtEveryLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    std::string bytes = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << n;
  }
  EXPECT_EQ(base64_encode("\xff\xfe\xfd"), "//79");
}

TEST(Base64, RejectsWrongLength) {
  EXPECT_EQ(base64_decode("Zg"), std::nullopt);    // unpadded
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9vY"), std::nullopt);
}

TEST(Base64, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_EQ(base64_decode("Zm9v!A=="), std::nullopt);
  EXPECT_EQ(base64_decode("-_8="), std::nullopt);   // base64url is a different alphabet
  EXPECT_EQ(base64_decode("Zm9 v"), std::nullopt);  // no whitespace
  EXPECT_EQ(base64_decode("Zg==\n"), std::nullopt);
  EXPECT_EQ(base64_decode(std::string_view("Zm\0v", 4)), std::nullopt);
}

TEST(Base64, RejectsMisplacedPadding) {
  EXPECT_EQ(base64_decode("===="), std::nullopt);
  EXPECT_EQ(base64_decode("Z==="), std::nullopt);
  EXPECT_EQ(base64_decode("Zm=v"), std::nullopt);
  EXPECT_EQ(base64_decode("Zg==Zm9v"), std::nullopt);  // padding mid-stream
}

TEST(Base64, AcceptsNonZeroPadBits) {
  // RFC 4648 3.5 lets a decoder choose; accepting favours interoperability.
  EXPECT_EQ(base64_decode("Zh=="), "f");
}

}  // namespace
}  // namespace evmesh::codec
