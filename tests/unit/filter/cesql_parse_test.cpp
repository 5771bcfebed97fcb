// CESQL syntax: literals, identifiers, precedence, parse errors (with positions) and
// the complexity limits.
#include <gtest/gtest.h>

#include <string>

#include "cesql_test_util.h"
#include "evmesh/filter/cesql.h"

namespace evmesh::cesql {
namespace {

EventPtr base_event() {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "id-1").set("source", "/src").set("type", "t");
  b.set("subject", "sub");
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev.has_value());
  return *ev;
}

// Compiles and evaluates text; expects no error.
Value eval_ok(std::string_view text) {
  auto ex = compile(text);
  EXPECT_TRUE(ex.has_value()) << text << ": " << (ex ? "" : ex.error().message);
  if (!ex) return Value{false};
  auto r = evaluate(**ex, *base_event());
  EXPECT_TRUE(r.errors.empty()) << text << ": " << (r.errors.empty() ? "" : r.errors[0].message);
  return r.value;
}

void expect_value(std::string_view text, const Value& want) {
  EXPECT_EQ(describe(eval_ok(text)), describe(want)) << text;
}

std::string compile_error(std::string_view text, const Limits& limits = {}) {
  auto ex = compile(text, limits);
  EXPECT_FALSE(ex.has_value()) << text;
  if (ex) return "";
  EXPECT_EQ(ex.error().code, Errc::invalid_subscription);
  return ex.error().message;
}

TEST(CesqlLiterals, Integers) {
  expect_value("0", Value{0});
  expect_value("1", Value{1});
  expect_value("007", Value{7});
  expect_value("+5", Value{5});
  expect_value("-5", Value{-5});
  expect_value("2147483647", Value{2147483647});
  expect_value("-2147483648", Value{std::numeric_limits<std::int32_t>::min()});
  expect_value("--10", Value{10});
  expect_value("- 10", Value{-10});
}

TEST(CesqlLiterals, IntegersOutsideInt32AreParseErrors) {
  EXPECT_EQ(compile_error("2147483648"), "at position 1: integer literal out of the 32-bit range");
  EXPECT_EQ(compile_error("1 + -2147483649"), "at position 5: integer literal out of the 32-bit range");
  EXPECT_EQ(compile_error("99999999999999999999"), "at position 1: integer literal out of the 32-bit range");
}

TEST(CesqlLiterals, Booleans) {
  expect_value("TRUE", Value{true});
  expect_value("true", Value{true});
  expect_value("tRuE", Value{true});
  expect_value("FALSE", Value{false});
  expect_value("FaLsE", Value{false});
}

TEST(CesqlLiterals, StringsInBothQuoteStyles) {
  expect_value("'abc'", Value{std::string("abc")});
  expect_value("\"abc\"", Value{std::string("abc")});
  expect_value("'aBcD'", Value{std::string("aBcD")});  // case preserved
  expect_value("''", Value{std::string()});
  expect_value("\"\"", Value{std::string()});
}

TEST(CesqlLiterals, StringEscapes) {
  expect_value(R"('a"b\'c')", Value{std::string("a\"b'c")});
  expect_value(R"("a'b\"c")", Value{std::string("a'b\"c")});
  expect_value("'it''s'", Value{std::string("it's")});          // doubled delimiter
  expect_value(R"("say ""hi""")", Value{std::string("say \"hi\"")});
  expect_value(R"('ab\c')", Value{std::string("ab\\c")});       // other backslashes stay
  expect_value(R"('a\%b')", Value{std::string("a\\%b")});
  expect_value(R"('x\\')", Value{std::string("x\\\\")});        // \\ is kept, and closes
  expect_value("'multi\nline'", Value{std::string("multi\nline")});
  expect_value("'caf\xC3\xA9'", Value{std::string("caf\xC3\xA9")});
}

TEST(CesqlLiterals, UnterminatedString) {
  EXPECT_EQ(compile_error("'abc"), "at position 1: unterminated string literal");
  EXPECT_EQ(compile_error("x = \"abc\\\""), "at position 5: unterminated string literal");
}

TEST(CesqlIdentifiers, AttributesAndKeywordsAreCaseInsensitive) {
  expect_value("SUBJECT", Value{std::string("sub")});
  expect_value("Subject = 'sub'", Value{true});
  expect_value("exists ID and Exists SOURCE", Value{true});
  expect_value("int('5') < INT('6') AnD NoT FALSE", Value{true});
}

TEST(CesqlIdentifiers, Errors) {
  EXPECT_EQ(compile_error("my_attr = 1"),
            "at position 1: 'my_attr' is not a valid attribute name (letters and digits only)");
  EXPECT_EQ(compile_error("EXISTS 1"),
            "at position 8: expected an attribute name after EXISTS, found integer literal");
  EXPECT_EQ(compile_error("EXISTS a_b"),
            "at position 8: 'a_b' is not a valid attribute name (letters and digits only)");
  EXPECT_EQ(compile_error("LEN2(x)"), "at position 1: 'LEN2' is not a valid function name (letters and '_' only)");
}

TEST(CesqlParseErrors, MessagesNamePosition) {
  EXPECT_EQ(compile_error("ABC("), "at position 5: expected an expression, found end of expression");
  EXPECT_EQ(compile_error("x LIKE 123"),
            "at position 8: the LIKE pattern must be a string literal, found integer literal");
  EXPECT_EQ(compile_error("x LIKE y"), "at position 8: the LIKE pattern must be a string literal, found identifier");
  EXPECT_EQ(compile_error("(1 + 2"), "at position 7: expected ')', found end of expression");
  EXPECT_EQ(compile_error("1 +"), "at position 4: expected an expression, found end of expression");
  EXPECT_EQ(compile_error("1 2"), "at position 3: unexpected integer literal");
  EXPECT_EQ(compile_error("a # b"), "at position 3: unexpected character '#'");
  EXPECT_EQ(compile_error("a ! b"), "at position 3: unexpected character '!' (did you mean '!='?)");
  EXPECT_EQ(compile_error("x IN ()"), "at position 7: expected an expression, found ')'");
  EXPECT_EQ(compile_error("x IN 1"), "at position 6: expected '(' after IN, found integer literal");
  EXPECT_EQ(compile_error("x IN (1, 2"), "at position 11: expected ',' or ')' in the IN set, found end of expression");
  EXPECT_EQ(compile_error("CONCAT('a' 'b')"),
            "at position 12: expected ',' or ')' in the argument list, found string literal");
  EXPECT_EQ(compile_error("+x"), "at position 1: '+' is only allowed as the sign of an integer literal");
  EXPECT_EQ(compile_error(""), "at position 1: expected an expression, found end of expression");
  EXPECT_EQ(compile_error("   "), "at position 4: expected an expression, found end of expression");
  EXPECT_EQ(compile_error("TRUE AND"), "at position 9: expected an expression, found end of expression");
  EXPECT_EQ(compile_error("x NOT 1"), "at position 3: unexpected NOT");
  EXPECT_EQ(compile_error("data. = 1"), "at position 6: expected a field name after '.' in data path");
}

TEST(CesqlPrecedence, Arithmetic) {
  expect_value("4 * 2 + 4 / 2", Value{10});
  expect_value("4 * (2 + 4) / 2", Value{12});
  expect_value("10 - 2 - 3", Value{5});  // left to right
  expect_value("100 / 10 / 5", Value{2});
  expect_value("2 + 3 * 4 % 5", Value{4});
  expect_value("4-1", Value{3});          // no space: binary minus
  expect_value("4 -1", Value{3});
  expect_value("-4 - -1", Value{-3});
}

TEST(CesqlPrecedence, ComparisonBelowArithmetic) {
  expect_value("1 + 1 = 2", Value{true});
  expect_value("2 * 3 > 5", Value{true});
  expect_value("1 < 2 = TRUE", Value{true});
}

TEST(CesqlPrecedence, LogicalOperatorsShareOneLevelLeftToRight) {
  // Per the spec AND, OR and XOR have equal precedence and associate left to right.
  expect_value("TRUE OR TRUE AND FALSE", Value{false});   // (TRUE OR TRUE) AND FALSE
  expect_value("TRUE OR (TRUE AND FALSE)", Value{true});
  expect_value("FALSE AND FALSE OR TRUE", Value{true});   // (FALSE AND FALSE) OR TRUE
  expect_value("TRUE XOR TRUE OR TRUE", Value{true});
  expect_value("TRUE XOR TRUE XOR TRUE", Value{true});
}

TEST(CesqlPrecedence, UnaryBindsTighterThanBinary) {
  expect_value("NOT FALSE = FALSE", Value{false});  // (NOT FALSE) = FALSE
  expect_value("NOT (FALSE = FALSE)", Value{false});
  expect_value("NOT (TRUE = FALSE)", Value{true});
  expect_value("-2 * 3", Value{-6});
  expect_value("NOT EXISTS time", Value{true});
  expect_value("NOT NOT TRUE", Value{true});
}

TEST(CesqlPrecedence, LikeAndInBindTighterThanArithmeticAndLogic) {
  expect_value("'ab' LIKE 'a%' AND 'x' IN ('x')", Value{true});
  expect_value("1 + 2 IN (3)", Value{1});  // 1 + (2 IN (3)) -> 1 + false
  expect_value("subject NOT LIKE 's%' OR subject NOT IN ('a')", Value{true});
}

TEST(CesqlPrecedence, Subexpressions) {
  expect_value("(TRUE)", Value{true});
  expect_value("((((1))))", Value{1});
  expect_value("4 * (2 + 3)", Value{20});
  expect_value("(2 + 3) * 4", Value{20});
}

TEST(CesqlPrecedence, Whitespace) {
  expect_value(" \t1\r\n+\n2 ", Value{3});
  expect_value("subject='sub'", Value{true});
  expect_value("subject<>'x'", Value{true});
}

TEST(CesqlLimits, TextLength) {
  Limits small;
  small.max_text = 10;
  EXPECT_EQ(compile_error("subject = 'abcdef'", small), "expression too complex: 18 characters, the limit is 10");
  EXPECT_TRUE(compile("1 = 1", small).has_value());
}

TEST(CesqlLimits, NestingDepth) {
  std::string nots;
  for (int i = 0; i < 70; ++i) nots += "NOT ";
  EXPECT_EQ(compile_error(nots + "TRUE"), "expression too complex: nesting deeper than 64");

  std::string parens = std::string(70, '(') + "1" + std::string(70, ')');
  EXPECT_EQ(compile_error(parens), "expression too complex: nesting deeper than 64");

  std::string sum = "1";
  for (int i = 0; i < 70; ++i) sum += " + 1";
  EXPECT_EQ(compile_error(sum), "expression too complex: nesting deeper than 64");

  std::string ok = std::string(30, '(') + "1" + std::string(30, ')');
  EXPECT_TRUE(compile(ok).has_value());
}

TEST(CesqlLimits, LongConjunctionsAreFlatNotDeep) {
  std::string chain = "subject = 's0'";
  for (int i = 1; i < 200; ++i) chain += " OR subject = 's" + std::to_string(i) + "'";
  auto ex = compile(chain);
  ASSERT_TRUE(ex.has_value()) << ex.error().message;
  EXPECT_FALSE(matches(**ex, *base_event()));
}

TEST(CesqlLimits, NodeCount) {
  std::string set = "1 IN (";
  for (int i = 0; i < 1100; ++i) set += (i ? ", " : "") + std::to_string(i);
  set += ")";
  EXPECT_EQ(compile_error(set), "expression too complex: more than 1024 nodes");
  Limits tight;
  tight.max_nodes = 3;
  EXPECT_EQ(compile_error("1 + 2 + 3", tight), "expression too complex: more than 3 nodes");
  EXPECT_TRUE(compile("1 + 2", tight).has_value());
}

TEST(CesqlCompile, KeepsTextAndReportsDataUse) {
  auto ex = compile("subject = 'x'");
  ASSERT_TRUE(ex.has_value());
  EXPECT_EQ(text(**ex), "subject = 'x'");
  EXPECT_FALSE(uses_data(**ex));
  auto d = compile("data.a.b = 1");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(uses_data(**d));
  auto e = compile("EXISTS data.a");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(uses_data(**e));
}

}  // namespace
}  // namespace evmesh::cesql
