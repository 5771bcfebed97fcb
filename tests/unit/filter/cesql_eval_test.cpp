// CESQL evaluation: operators, implicit casting, attribute typing, missing attributes
// and the error semantics (zero values, short circuits), the data.* extension.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cesql_test_util.h"
#include "evmesh/filter/cesql.h"

namespace evmesh::cesql {
namespace {

struct Attr {
  std::string name, value;
  JsonKind kind = JsonKind::string;
};

EventPtr event(std::vector<Attr> extra = {}) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "myId").set("source", "http://localhost/source").set("type", "myType");
  for (auto& a : extra) b.set(a.name, a.value, a.kind);
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev.has_value()) << ev.error().message;
  return *ev;
}

std::string kinds(const std::vector<EvalError>& errors) {
  std::string out;
  for (auto& e : errors) (out += out.empty() ? "" : ",") += to_string(e.kind);
  return out;
}

// Evaluates text against ev and checks value and error kinds ("" = no error).
void expect(std::string_view text, const Value& want, std::string_view want_errors = "",
            const EventPtr& ev = event(), const nlohmann::json* data = nullptr) {
  auto ex = compile(text);
  ASSERT_TRUE(ex.has_value()) << text << ": " << ex.error().message;
  auto r = evaluate(**ex, *ev, data);
  EXPECT_EQ(describe(r.value), describe(want)) << text;
  EXPECT_EQ(kinds(r.errors), want_errors) << text;
  EXPECT_EQ(matches(**ex, *ev, data), r.errors.empty() && r.value == Value{true}) << text;
}

const Value T{true}, F{false};
Value I(std::int32_t i) { return Value{i}; }
Value S(std::string s) { return Value{std::move(s)}; }

TEST(CesqlComparison, EqualityPerType) {
  expect("TRUE = FALSE", F);
  expect("FALSE = FALSE", T);
  expect("1 = 2", F);
  expect("2 = 2", T);
  expect("'abc' = '123'", F);
  expect("'abc' = 'abc'", T);
  expect("'abc' = 'ABC'", F);  // case sensitive
  for (const char* op : {"!=", "<>"}) {
    expect(std::string("TRUE ") + op + " FALSE", T);
    expect(std::string("2 ") + op + " 2", F);
    expect(std::string("'abc' ") + op + " '123'", T);
    expect(std::string("'abc' ") + op + " 'abc'", F);
  }
}

TEST(CesqlComparison, Ordering) {
  expect("2 <= 2", T);
  expect("3 <= 2", F);
  expect("1 < 2", T);
  expect("2 < 2", F);
  expect("2 >= 2", T);
  expect("2 >= 3", F);
  expect("2 > 1", T);
  expect("2 > 2", F);
  expect("-2147483648 < 2147483647", T);
}

TEST(CesqlComparison, OrderingCastsToInteger) {
  expect("'10' > '9'", T);  // integers, not strings
  expect("TRUE > FALSE", T);
  expect("'abc' < 1", F, "cast");
}

TEST(CesqlCasting, EqualsCastsLeftToRightType) {
  expect("true = 'TRUE'", F);   // right String: TRUE -> 'true'
  expect("'TRUE' = true", T);   // right Boolean: 'TRUE' -> true
  expect("TRUE = 'true' AND FALSE = 'false'", T);
  expect("TRUE = 'TRUE' OR FALSE = 'FALSE'", F);
  expect("'5' = 5", T);
  expect("5 = '05'", F);        // 5 -> '5'
  expect("'05' = 5", T);        // '05' -> 5
  expect("1 = TRUE", T);        // Integer -> Boolean
  expect("TRUE = 1", T);        // Boolean -> Integer
  expect("2 = TRUE", T);
  expect("'abc' = 1", F, "cast");
  expect("'abc' != 1", F, "cast");  // zero value of the operator, not NOT(false)
  expect("'yes' = TRUE", F, "cast");
}

TEST(CesqlCasting, ArithmeticCastsToInteger) {
  expect("'5' + 3", I(8));
  expect("5 + '3'", I(8));
  expect("'5' + '3'", I(8));
  expect("5 + TRUE", I(6));
  expect("'+7' * 2", I(14));
  expect("'-7' * 2", I(-14));
  expect("' 7' * 2", I(0), "cast");
  expect("'7.0' * 2", I(0), "cast");
  expect("'' + 1", I(0), "cast");
  expect("'2147483648' + 0", I(0), "cast");
  expect("'+-1' + 0", I(0), "cast");
}

TEST(CesqlCasting, LogicCastsToBoolean) {
  expect("NOT 'TRUE'", F);
  expect("NOT 'FALSE'", T);
  expect("NOT 'fAlSe'", T);
  expect("NOT 10", F);   // Integer -> Boolean: non-zero is true (spec 3.7)
  expect("NOT 0", T);
  expect("'true' AND 1", T);
  expect("NOT 'yes'", F, "cast");
  expect("'maybe' OR TRUE", F, "cast");
}

TEST(CesqlArithmetic, Basics) {
  expect("4 + 1", I(5));
  expect("-4 + 1", I(-3));
  expect("-4 + -1", I(-5));
  expect("4 + -1", I(3));
  expect("4 - 1", I(3));
  expect("-4 - 1", I(-5));
  expect("6 * -7", I(-42));
}

TEST(CesqlArithmetic, TruncatedDivisionAndModulo) {
  expect("5 / 3", I(1));
  expect("-5 / 3", I(-1));
  expect("5 / -3", I(-1));
  expect("5 % 2", I(1));
  expect("-5 % 3", I(-2));  // sign of the dividend
  expect("5 % -3", I(2));
  expect("-2147483648 % -1", I(0));
}

TEST(CesqlArithmetic, DivisionByZeroIsMathErrorWithZero) {
  expect("5 / 0", I(0), "math");
  expect("5 % 0", I(0), "math");
  expect("0 / 0", I(0), "math");
}

TEST(CesqlArithmetic, OverflowIsMathErrorWithZero) {
  expect("2147483647 + 1", I(0), "math");
  expect("-2147483648 - 1", I(0), "math");
  expect("65536 * 65536", I(0), "math");
  expect("-2147483648 / -1", I(0), "math");
  expect("-(-2147483648)", I(0), "math");
  expect("2147483647 + 0", I(2147483647));
}

TEST(CesqlUnary, Negate) {
  expect("-10", I(-10));
  expect("--10", I(10));
  expect("-'10'", I(-10));
  expect("--'10'", I(10));
  expect("-TRUE", I(-1));
  expect("-FALSE", I(0));
  expect("-'x'", I(0), "cast");
  expect("-missing", I(0), "missingAttribute");
}

TEST(CesqlUnary, Not) {
  expect("NOT TRUE", F);
  expect("NOT FALSE", T);
  expect("NOT missing", F, "missingAttribute");
}

TEST(CesqlLogic, TruthTables) {
  expect("FALSE AND FALSE", F);
  expect("FALSE AND TRUE", F);
  expect("TRUE AND FALSE", F);
  expect("TRUE AND TRUE", T);
  expect("FALSE OR FALSE", F);
  expect("FALSE OR TRUE", T);
  expect("TRUE OR FALSE", T);
  expect("TRUE OR TRUE", T);
  expect("FALSE XOR FALSE", F);
  expect("FALSE XOR TRUE", T);
  expect("TRUE XOR FALSE", T);
  expect("TRUE XOR TRUE", F);
}

TEST(CesqlLogic, ShortCircuit) {
  expect("false and (1 != 1 / 0)", F);
  expect("true and (1 != 1 / 0)", F, "math");
  expect("true or (1 != 1 / 0)", T);
  expect("false or (1 != 1 / 0)", F, "math");
  expect("FALSE AND missing", F);
  expect("TRUE OR missing", T);
  expect("TRUE AND TRUE AND FALSE AND missing", F);
  expect("FALSE XOR (1 / 0 = 0)", F, "math");  // XOR always evaluates both sides
}

TEST(CesqlMissingAttribute, ZeroValueOfTheSubexpressionType) {
  expect("missing", F, "missingAttribute");  // type unknown: Boolean
  expect("missing = 2", F, "missingAttribute");
  expect("missing != 2", F, "missingAttribute");
  expect("missing <> 2", F, "missingAttribute");
  expect("missing <= 2", F, "missingAttribute");
  expect("true AND (missing = \"\")", F, "missingAttribute");
  expect("missing * 5", I(0), "missingAttribute");
  expect("1 / missing", I(0), "missingAttribute");  // no MathError
  expect("missing / 0", I(0), "missingAttribute");
  expect("missing % 0", I(0), "missingAttribute");
  expect("missing LIKE 'missing'", F, "missingAttribute");
  expect("missing IN ('a')", F, "missingAttribute");
  expect("LENGTH(missing)", I(0), "missingAttribute");
  expect("UPPER(missing)", S(""), "missingAttribute");
  expect("NOT (missing = 'x')", F, "missingAttribute");
}

TEST(CesqlAttributes, CoreAndExtensions) {
  auto ev = event({{"subject", "mySubject"}, {"time", "2018-04-26T14:48:09+02:00"}, {"myext", "my extension"}});
  expect("id", S("myId"), "", ev);
  expect("subject", S("mySubject"), "", ev);
  expect("source", S("http://localhost/source"), "", ev);
  expect("time", S("2018-04-26T14:48:09+02:00"), "", ev);
  expect("specversion", S("1.0"), "", ev);
  expect("myext", S("my extension"), "", ev);
  expect("subject", F, "missingAttribute");
}

TEST(CesqlAttributes, TypedExtensionsKeepTheirType) {
  auto ev = event({{"myint", "10", JsonKind::integer}, {"mybool", "true", JsonKind::boolean},
                   {"mystr", "10"}});
  expect("myint", I(10), "", ev);
  expect("mybool", T, "", ev);
  expect("mystr", S("10"), "", ev);
  expect("myint + 1", I(11), "", ev);
  expect("myint = '10'", T, "", ev);   // right String: 10 -> '10'
  expect("'010' = myint", T, "", ev);  // right Integer: '010' -> 10
  expect("mystr = 10", T, "", ev);
  expect("mybool AND TRUE", T, "", ev);
  expect("mybool = 'true'", T, "", ev);
  expect("myint LIKE '1%'", T, "", ev);
}

TEST(CesqlAttributes, SpecExamples) {
  auto hop = event({{"hop", "5"}, {"ttl", "10"}});
  expect("int(hop) < int(ttl) and int(hop) < 1000", T, "", hop);
  expect("INT(hop) < INT(ttl) AND INT(hop) < 1000", T, "", hop);
  expect("hop < ttl", T, "", hop);  // cast to Integer: not a string comparison

  expect("sequence = 5", T, "", event({{"sequence", "5"}}));
  expect("sequence = 5", F, "", event({{"sequence", "6"}}));
  expect("sequence = 10", T, "", event({{"sequence", "10", JsonKind::integer}}));

  const char* logic = "firstname = 'Francesco' OR subject = 'Francesco'";
  expect(logic, T, "", event({{"subject", "Francesco"}, {"firstname", "Doug"}}));
  expect(logic, T, "", event({{"firstname", "Francesco"}, {"subject", "Doug"}}));
  expect("firstname = 'Francesco'", T, "", event({{"firstname", "Francesco"}}));

  const char* grouped = "(firstname = 'Francesco' AND lastname = 'Guardiani') OR subject = 'Francesco Guardiani'";
  expect(grouped, T, "", event({{"subject", "Doug"}, {"firstname", "Francesco"}, {"lastname", "Guardiani"}}));
  expect(grouped, T, "",
         event({{"subject", "Francesco Guardiani"}, {"firstname", "Doug"}, {"lastname", "Davis"}}));
  expect(grouped, F, "", event({{"subject", "x"}, {"firstname", "Doug"}, {"lastname", "Davis"}}));

  expect("EXISTS subject", T, "", event({{"subject", "Francesco Guardiani"}}));
  expect("EXISTS subject", F);
}

TEST(CesqlExists, RequiredOptionalAndExtensions) {
  expect("EXISTS specversion AND EXISTS id AND EXISTS type AND EXISTS SOURCE", T);
  auto ev = event({{"time", "2018-04-26T14:48:09+02:00"}, {"myext", "v"}});
  expect("EXISTS time", T, "", ev);
  expect("EXISTS time", F);
  expect("NOT EXISTS time", T);
  expect("EXISTS myext", T, "", ev);
  expect("EXISTS myext", F);
  expect("NOT EXISTS myext", T);
  expect("EXISTS data", F);  // data is not an attribute
}

TEST(CesqlIn, Sets) {
  expect("123 IN (1, 2, 3, 12, 13, 23, 123)", T);
  expect("123 NOT IN (1, 2, 3, 12, 13, 23, 123)", F);
  expect("'abc' IN ('abc', \"bcd\")", T);
  expect("'aaa' IN ('abc', \"bcd\")", F);
  expect("'aaa' NOT IN ('abc', \"bcd\")", T);
  expect("TRUE IN (TRUE, FALSE)", T);
  expect("TRUE IN (FALSE)", F);
}

TEST(CesqlIn, ElementsCastToTheLeftType) {
  expect("'true' IN (TRUE, 'false')", T);
  expect("'true' IN ('TRUE', 'false')", F);
  expect("TRUE IN ('true', 'false')", T);
  expect("'TRUE' IN (TRUE, 'false')", F);
  expect("1 IN ('1', '2')", T);
  expect("'1' IN (1, 2)", T);
  expect("1 IN ('x', 1)", F, "cast");
  expect("1 IN (1, 'x')", T);  // stops at the first match
}

TEST(CesqlIn, AttributesAndExpressions) {
  auto ev = event({{"myext", "http://localhost/source"}});
  expect("source IN (myext, 'abc')", T, "", ev);
  expect("source IN (source)", T, "", ev);
  expect("source IN (id, \"http://localhost/source\")", T, "", ev);
  expect("source IN (id, 'xyz')", F, "", ev);
  expect("3 IN (1 + 2)", T);
  expect("'a' IN (missing)", F, "missingAttribute");
}

TEST(CesqlLike, Wildcards) {
  expect("'abc' LIKE 'abc'", T);
  expect("'abc' NOT LIKE 'abc'", F);
  expect("'abc' LIKE 'a%b%c'", T);
  expect("'azbc' LIKE 'a%b%c'", T);
  expect("'azzzbzzzc' LIKE 'a%b%c'", T);
  expect("'a%b%c' LIKE 'a%b%c'", T);
  expect("'ac' LIKE 'abc'", F);
  expect("'' LIKE 'abc'", F);
  expect("'' LIKE '%'", T);
  expect("'' LIKE '_'", F);
  expect("'.ab.cde.' LIKE '.%.%.'", T);
  expect("'ab.cde' LIKE '.%.%.'", F);
  expect("'abc' LIKE 'a_b_c'", F);
  expect("'a_b_c' LIKE 'a_b_c'", T);
  expect("'abzc' LIKE 'a_b_c'", F);
  expect("'azbzc' LIKE 'a_b_c'", T);
  expect("'.a.b.' LIKE '._._.'", T);
  expect("'abcd.' LIKE '._._.'", F);
  expect("'aBc' LIKE 'abc'", F);  // case sensitive
  expect("'ab' LIKE '_b%'", T);
  expect("'abcd1' LIKE '_b%'", T);
  expect("'b' LIKE '_b%'", F);
  expect("'mississippi' LIKE '%iss%ipp%'", T);
  expect("'aaa' LIKE '%%a%%'", T);
  expect("'\xC3\xA9t\xC3\xA9' LIKE '_t_'", T);  // '_' is one character, not one byte
}

TEST(CesqlLike, Escapes) {
  expect(R"('ab\c' LIKE 'ab\c')", T);  // a backslash before another character is literal
  expect(R"('a_b_c' LIKE 'a\_b\_c')", T);
  expect(R"('a_b_c' NOT LIKE 'a\_b\_c')", F);
  expect(R"('azbzc' LIKE 'a\_b\_c')", F);
  expect(R"('abc' LIKE 'a\_b\_c')", F);
  expect(R"('a%b%c' LIKE 'a\%b\%c')", T);
  expect(R"('azbzc' LIKE 'a\%b\%c')", F);
  expect(R"('abc%' LIKE 'abc\%')", T);
  expect(R"('abcd' LIKE 'abc\%')", F);
  expect(R"(myext LIKE 'abc%123\%456\_d_f')", T, "", event({{"myext", "abc123123%456_dzf"}}));
  expect(R"(myext NOT LIKE 'abc%123\%456\_d_f')", F, "", event({{"myext", "abc123123%456_dzf"}}));
}

TEST(CesqlLike, LeftOperandCastToString) {
  expect("234 LIKE '23_'", T);
  expect("2344 LIKE '23%'", T);
  expect("2344 LIKE '23_'", F);
  expect("TRUE LIKE 'tr%'", T);
  expect("TRUE LIKE '%ue'", T);
  expect("FALSE LIKE 'tr%'", F);
  expect("FALSE LIKE 'fal%'", T);
}

TEST(CesqlLike, SubscriptionsApiStyleFilters) {
  expect("source LIKE 'https://%'", T, "", event({{"source", "https://example.com"}}));
  expect("source LIKE 'https://%'", F, "", event({{"source", "http://example.com"}}));
  expect("type like '%.error'", T, "", event({{"type", "com.github.error"}}));
  expect("type like '%.error'", F, "", event({{"type", "com.github.success"}}));
  expect("myext LIKE 'custom%'", F, "missingAttribute");
  expect("type LIKE 'example.%' AND myext LIKE 'custom%'", F, "missingAttribute",
         event({{"type", "example.event.type"}}));
  const char* dnf =
      "(id = 'myId' AND type LIKE '%.success') OR (id = 'notmyId' AND source LIKE 'http://%' AND type LIKE '%.warning')";
  expect(dnf, T, "", event({{"type", "example.event.success"}}));
  expect(dnf, T, "", event({{"id", "notmyId"}, {"type", "example.event.warning"}, {"source", "http://h"}}));
  expect(dnf, F, "", event({{"id", "notmyId"}, {"type", "example.event.warning"}, {"source", "https://h"}}));
}

TEST(CesqlData, DottedPathsReadJsonData) {
  auto data = nlohmann::json::parse(
      R"({"a": {"b": "x", "n": 7, "big": 3000000000, "f": 2.0, "g": 2.5, "t": true, "z": null,
              "list": [10, 20]}, "top": "y"})");
  expect("data.a.b = 'x'", T, "", event(), &data);
  expect("data.top", S("y"), "", event(), &data);
  expect("data.a.n + 1", I(8), "", event(), &data);
  expect("data.a.f", I(2), "", event(), &data);
  expect("data.a.t", T, "", event(), &data);
  expect("data.a.list.1", I(20), "", event(), &data);
  expect("data.a.list.2", F, "missingAttribute", event(), &data);
  expect("data.a.big", F, "missingAttribute", event(), &data);
  expect("data.a.g", F, "missingAttribute", event(), &data);
  expect("data.a.z", F, "missingAttribute", event(), &data);
  expect("data.a", F, "missingAttribute", event(), &data);  // an object
  expect("data.a.nope = 1", F, "missingAttribute", event(), &data);
  expect("data.a.b = 'x'", F, "missingAttribute");  // no data at all
  expect("EXISTS data.a.z", T, "", event(), &data);
  expect("EXISTS data.a.nope", F, "", event(), &data);
  expect("EXISTS data.a", F);
  auto ex = compile("data.A.b");  // keys are case sensitive
  ASSERT_TRUE(ex.has_value());
  EXPECT_EQ(kinds(evaluate(**ex, *event(), &data).errors), "missingAttribute");
}

TEST(CesqlErrors, MessagesNameTheProblem) {
  auto ex = compile("missing = 1 OR TRUE");
  ASSERT_TRUE(ex.has_value());
  auto r = evaluate(**ex, *event());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "missing attribute 'missing'");
  auto c = compile("'abc' + 1");
  auto rc = evaluate(**c, *event());
  ASSERT_EQ(rc.errors.size(), 1u);
  EXPECT_EQ(rc.errors[0].message, "cannot cast String 'abc' to Integer");
  EXPECT_EQ(to_string(ErrorKind::parse), "parse");
  EXPECT_EQ(to_string(ErrorKind::function_evaluation), "functionEvaluation");
}

TEST(CesqlMatches, OnlyTrueWithoutErrors) {
  auto ev = event({{"subject", "s"}});
  auto yes = compile("subject = 's'");
  auto no = compile("subject = 'x'");
  auto not_bool = compile("subject");
  auto errs = compile("subject = 's' AND ABS(-2147483648) > 0");
  EXPECT_TRUE(matches(**yes, *ev));
  EXPECT_FALSE(matches(**no, *ev));
  EXPECT_FALSE(matches(**not_bool, *ev));
  EXPECT_FALSE(matches(**errs, *ev));
}

}  // namespace
}  // namespace evmesh::cesql
