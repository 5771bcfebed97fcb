// indexable_conjuncts(): which terms an index may anchor on, and that every listed
// conjunct really is necessary for a TRUE result.
#include <gtest/gtest.h>

#include <string>

#include "evmesh/filter/cesql.h"

namespace evmesh::cesql {
namespace {

std::string listed(std::string_view text) {
  auto ex = compile(text);
  EXPECT_TRUE(ex.has_value()) << text;
  if (!ex) return "";
  std::string out;
  for (const auto& c : indexable_conjuncts(**ex)) {
    if (!out.empty()) out += "; ";
    out += c.kind == Conjunct::Kind::exact ? "exact " : c.kind == Conjunct::Kind::prefix ? "prefix " : "suffix ";
    out += c.attribute + "=" + c.value;
  }
  return out;
}

TEST(CesqlIndex, SingleTerms) {
  EXPECT_EQ(listed("type = 'com.example'"), "exact type=com.example");
  EXPECT_EQ(listed("'com.example' = type"), "exact type=com.example");
  EXPECT_EQ(listed("TYPE = 'x'"), "exact type=x");
  EXPECT_EQ(listed("source LIKE 'https://%'"), "prefix source=https://");
  EXPECT_EQ(listed("type LIKE '%.error'"), "suffix type=.error");
  EXPECT_EQ(listed("type LIKE 'abc'"), "exact type=abc");
  EXPECT_EQ(listed(R"(type LIKE 'a\%b%')"), "prefix type=a%b");
  EXPECT_EQ(listed(R"(type LIKE 'a\_b')"), "exact type=a_b");
  EXPECT_EQ(listed("type LIKE '%%'"), "prefix type=");
}

TEST(CesqlIndex, Conjunctions) {
  EXPECT_EQ(listed("id LIKE 'my%' AND source LIKE '%.ca' AND LENGTH(subject) > 2 AND type = 'x'"),
            "prefix id=my; suffix source=.ca; exact type=x");
  EXPECT_EQ(listed("(type = 'a' AND subject = 'b') AND id = 'c'"), "exact type=a; exact subject=b; exact id=c");
}

TEST(CesqlIndex, NothingThatIsNotNecessary) {
  EXPECT_EQ(listed("type = 'a' OR type = 'b'"), "");
  EXPECT_EQ(listed("type = 'a' AND subject = 'b' OR id = 'c'"), "");  // (a AND b) OR c
  EXPECT_EQ(listed("NOT type = 'a'"), "");
  EXPECT_EQ(listed("type NOT LIKE 'a%'"), "");
  EXPECT_EQ(listed("type != 'a'"), "");
  EXPECT_EQ(listed("type LIKE 'a%b'"), "");
  EXPECT_EQ(listed("type LIKE 'a_%'"), "");
  EXPECT_EQ(listed("type LIKE '%a%'"), "");
  EXPECT_EQ(listed("seq = 5"), "");          // '05' would match too
  EXPECT_EQ(listed("type = subject"), "");
  EXPECT_EQ(listed("data.type = 'x'"), "");  // not an attribute
  EXPECT_EQ(listed("type XOR subject = 'x'"), "");
  EXPECT_EQ(listed("TRUE"), "");
}

TEST(CesqlIndex, LiteralOnTheLeftOnlyWhenNoCastCanMatchAnotherSpelling) {
  // An Integer or Boolean extension compares after casting the literal.
  EXPECT_EQ(listed("'010' = seq"), "");
  EXPECT_EQ(listed("'+1' = seq"), "");
  EXPECT_EQ(listed("'TRUE' = flag"), "");
  EXPECT_EQ(listed("'10' = seq"), "exact seq=10");
  EXPECT_EQ(listed("'true' = flag"), "exact flag=true");
  EXPECT_EQ(listed("'abc' = type"), "exact type=abc");
}

TEST(CesqlIndex, ListedConjunctsHoldWheneverTheExpressionMatches) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  b.set("seq", "10", JsonKind::integer).set("flag", "true", JsonKind::boolean);
  auto ev = *std::move(b).build();
  for (const char* text : {"'10' = seq", "'true' = flag", "seq = '10'", "flag LIKE 'tr%'"}) {
    auto ex = compile(text);
    ASSERT_TRUE(ex.has_value());
    ASSERT_TRUE(matches(**ex, *ev)) << text;
    for (const auto& c : indexable_conjuncts(**ex)) {
      auto v = ev->attribute(c.attribute);
      ASSERT_TRUE(v.has_value());
      if (c.kind == Conjunct::Kind::exact) {
        EXPECT_EQ(*v, c.value) << text;
      } else if (c.kind == Conjunct::Kind::prefix) {
        EXPECT_TRUE(v->starts_with(c.value)) << text;
      }
    }
  }
}

}  // namespace
}  // namespace evmesh::cesql
