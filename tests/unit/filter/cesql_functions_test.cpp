// CESQL built-in functions: results, argument casting, error values and dispatch.
#include <gtest/gtest.h>

#include <string>

#include "cesql_test_util.h"
#include "evmesh/filter/cesql.h"

namespace evmesh::cesql {
namespace {

EventPtr event() {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t").set("subject", "  Hello  ");
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev.has_value());
  return *ev;
}

void expect(std::string_view text, const Value& want, std::string_view want_error = "") {
  auto ex = compile(text);
  ASSERT_TRUE(ex.has_value()) << text << ": " << ex.error().message;
  auto r = evaluate(**ex, *event());
  EXPECT_EQ(describe(r.value), describe(want)) << text;
  std::string kinds;
  for (auto& e : r.errors) (kinds += kinds.empty() ? "" : ",") += to_string(e.kind);
  EXPECT_EQ(kinds, want_error) << text;
}

const Value T{true}, F{false};
Value I(std::int32_t i) { return Value{i}; }
Value S(std::string s) { return Value{std::move(s)}; }

TEST(CesqlFunctions, Length) {
  expect("LENGTH('abc')", I(3));
  expect("LENGTH('')", I(0));
  expect("LENGTH('2')", I(1));
  expect("LENGTH(TRUE)", I(4));
  expect("LENGTH(-12)", I(3));
  expect("LENGTH('caf\xC3\xA9')", I(4));   // characters, not bytes
  expect("LENGTH('\xF0\x9F\x98\x80')", I(1));
  expect("length(subject)", I(9));
}

TEST(CesqlFunctions, Concat) {
  expect("CONCAT('a', 'b', 'c')", S("abc"));
  expect("CONCAT()", S(""));
  expect("CONCAT('a')", S("a"));
  expect("CONCAT('a', 1, TRUE)", S("a1true"));
  expect("CONCAT('x', 'y', 'z', 'w', 'v', 'u')", S("xyzwvu"));  // more than the inline buffer
}

TEST(CesqlFunctions, ConcatWs) {
  expect("CONCAT_WS(',', 'a', 'b', 'c')", S("a,b,c"));
  expect("CONCAT_WS(',')", S(""));
  expect("CONCAT_WS(',', 'a')", S("a"));
  expect("CONCAT_WS(', ', 1, 2)", S("1, 2"));
  expect("concat_ws('-', '', '')", S("-"));
  expect("CONCAT_WS()", F, "missingFunction");
}

TEST(CesqlFunctions, LowerUpper) {
  expect("LOWER('ABC')", S("abc"));
  expect("LOWER('AbC')", S("abc"));
  expect("LOWER('abc')", S("abc"));
  expect("UPPER('ABC')", S("ABC"));
  expect("UPPER('AbC')", S("ABC"));
  expect("UPPER('abc')", S("ABC"));
  expect("UPPER(TRUE)", S("TRUE"));
  expect("LOWER('\xC3\x89T\xC3\x89 \xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91 \xD0\x9C\xD0\x98\xD0\xA0')",
         S("\xC3\xA9t\xC3\xA9 \xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1 \xD0\xBC\xD0\xB8\xD1\x80"));
  expect("UPPER('\xC3\xA9t\xC3\xA9 \xC5\x82\xC3\xB3" "d\xC5\xBA')",
         S("\xC3\x89T\xC3\x89 \xC5\x81\xC3\x93" "D\xC5\xB9"));
  expect("UPPER('\xE4\xB8\xAD')", S("\xE4\xB8\xAD"));  // no case: unchanged
}

TEST(CesqlFunctions, Trim) {
  expect("TRIM('   a b c   ')", S("a b c"));
  expect("TRIM('   a b c')", S("a b c"));
  expect("TRIM('a b c   ')", S("a b c"));
  expect("TRIM('a b c')", S("a b c"));
  expect("TRIM('   ')", S(""));
  expect("TRIM('')", S(""));
  expect("TRIM(subject)", S("Hello"));
  expect("TRIM('\t\n x \r')", S("x"));
  expect("TRIM('\xC2\xA0x\xE3\x80\x80')", S("x"));  // no-break space, ideographic space
}

TEST(CesqlFunctions, Left) {
  expect("LEFT('abc', 2)", S("ab"));
  expect("LEFT('abc', 10)", S("abc"));
  expect("LEFT('', 0)", S(""));
  expect("LEFT('abc', 0)", S(""));
  expect("LEFT('abc', -2)", S("abc"), "functionEvaluation");
  expect("LEFT('\xC3\xA9t\xC3\xA9', 2)", S("\xC3\xA9t"));
  expect("LEFT('abc', '2')", S("ab"));
  expect("LEFT('abc', 'x')", S(""), "cast");
}

TEST(CesqlFunctions, Right) {
  expect("RIGHT('abc', 2)", S("bc"));
  expect("RIGHT('abc', 10)", S("abc"));
  expect("RIGHT('', 0)", S(""));
  expect("RIGHT('abc', 0)", S(""));
  expect("RIGHT('abc', -2)", S("abc"), "functionEvaluation");
  expect("RIGHT('\xC3\xA9t\xC3\xA9', 2)", S("t\xC3\xA9"));
}

TEST(CesqlFunctions, SubstringFromPosition) {
  expect("SUBSTRING('abcdef', 1)", S("abcdef"));
  expect("SUBSTRING('abcdef', 2)", S("bcdef"));
  expect("SUBSTRING('Quadratically', 5)", S("ratically"));
  expect("SUBSTRING('Sakila', -3)", S("ila"));
  expect("SUBSTRING('abcdef', 6)", S("f"));
  expect("SUBSTRING('abcdef', -6)", S("abcdef"));
  expect("SUBSTRING('Quadratically', 0)", S(""));
  expect("SUBSTRING('abcdef', 10)", S(""), "functionEvaluation");
  expect("SUBSTRING('abcdef', 7)", S(""), "functionEvaluation");
  expect("SUBSTRING('abcdef', -10)", S(""), "functionEvaluation");
  expect("SUBSTRING('', 1)", S(""), "functionEvaluation");
}

TEST(CesqlFunctions, SubstringWithLength) {
  expect("SUBSTRING('abcdef', 1, 6)", S("abcdef"));
  expect("SUBSTRING('abcdef', 2, 4)", S("bcde"));
  expect("SUBSTRING('Sakila', -5, 3)", S("aki"));
  expect("SUBSTRING('Quadratically', 0, 1)", S(""));
  expect("SUBSTRING('abcdef', 3, 100)", S("cdef"));
  expect("SUBSTRING('abcdef', 3, 0)", S(""));
  expect("SUBSTRING('abcdef', 10, 10)", S(""), "functionEvaluation");
  expect("SUBSTRING('abcdef', -10, 10)", S(""), "functionEvaluation");
  expect("SUBSTRING('abcdef', 2, -1)", S(""), "functionEvaluation");
  expect("SUBSTRING('\xC3\xA9t\xC3\xA9s', 2, 2)", S("t\xC3\xA9"));
}

TEST(CesqlFunctions, Abs) {
  expect("ABS(10)", I(10));
  expect("ABS(-10)", I(10));
  expect("ABS(0)", I(0));
  expect("ABS('-3')", I(3));
  expect("ABS(-2147483648)", I(2147483647), "math");
  expect("ABS('x')", I(0), "cast");
}

TEST(CesqlFunctions, Int) {
  expect("INT('1')", I(1));
  expect("INT('-1')", I(-1));
  expect("INT('+1')", I(1));
  expect("INT(1)", I(1));
  expect("INT(-1)", I(-1));
  expect("INT(TRUE)", I(1));
  expect("INT(FALSE)", I(0));
  expect("INT('ABC')", I(0), "cast");
  expect("INT('1.5')", I(0), "cast");
  expect("INT('99999999999')", I(0), "cast");
}

TEST(CesqlFunctions, Bool) {
  expect("BOOL('TRUE')", T);
  expect("BOOL(\"false\")", F);
  expect("BOOL('tRuE')", T);
  expect("BOOL(TRUE)", T);
  expect("BOOL(FALSE)", F);
  expect("BOOL('ABC')", F, "cast");
  expect("BOOL('')", F, "cast");
  expect("BOOL(1)", T);
  expect("BOOL(0)", F);
  expect("BOOL(100)", T);
  expect("BOOL(-50)", T);
}

TEST(CesqlFunctions, String) {
  expect("STRING(TRUE)", S("true"));
  expect("STRING(FALSE)", S("false"));
  expect("STRING(1)", S("1"));
  expect("STRING(-1)", S("-1"));
  expect("STRING(-2147483648)", S("-2147483648"));
  expect("STRING(\"abc\")", S("abc"));
}

TEST(CesqlFunctions, IsIntIsBool) {
  expect("IS_INT('-1')", T);
  expect("IS_INT('1')", T);
  expect("IS_INT('abc')", F);
  expect("IS_INT(5)", T);
  expect("IS_INT(TRUE)", F);  // the argument is a String: 'true'
  expect("IS_INT(' 1')", F);
  expect("IS_BOOL('true')", T);
  expect("IS_BOOL('FALSE')", T);
  expect("IS_BOOL('abc')", F);
  expect("IS_BOOL(1)", F);   // '1'
  expect("IS_BOOL(TRUE)", T);
}

TEST(CesqlFunctions, DispatchIsByCaseInsensitiveNameAndArity) {
  expect("abs(-1)", I(1));
  expect("Substring('abc', 2)", S("bc"));
  expect("IS_STRING('ABC')", F, "missingFunction");
  expect("LENGTH('a', 'b')", F, "missingFunction");
  expect("LENGTH()", F, "missingFunction");
  expect("SUBSTRING('a')", F, "missingFunction");
  expect("NOPE(1 / 0)", F, "missingFunction");  // arguments of a missing function are not evaluated
}

TEST(CesqlFunctions, ArgumentErrorsGiveTheZeroValue) {
  expect("LENGTH(missing)", I(0), "missingAttribute");
  expect("CONCAT('a', missing)", S(""), "missingAttribute");
  expect("ABS(1 / 0)", I(0), "math");
  expect("LEFT('abc', 1 / 0)", S(""), "math");
  expect("UPPER(LEFT('abc', -1))", S(""), "functionEvaluation");
}

TEST(CesqlFunctions, ComposeAndCompare) {
  expect("UPPER(SUBSTRING(CONCAT_WS('.', 'com', 'example'), 5)) = 'EXAMPLE'", T);
  expect("LENGTH(CONCAT(subject, 'x')) = 10", T);
  expect("INT(STRING(41)) + 1", I(42));
}

TEST(CesqlFunctions, StaticErrorsListMissingFunctions) {
  auto ex = compile("LENGTH(subject) > 1 AND NOPE(1) AND LENGTH(1, 2)");
  ASSERT_TRUE(ex.has_value());
  auto errors = static_errors(**ex);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].kind, ErrorKind::missing_function);
  EXPECT_EQ(errors[0].message, "no function NOPE taking 1 argument(s)");
  EXPECT_EQ(errors[1].message, "no function LENGTH taking 2 argument(s)");
  EXPECT_TRUE(static_errors(**compile("LENGTH(subject) > 1")).empty());
}

}  // namespace
}  // namespace evmesh::cesql
