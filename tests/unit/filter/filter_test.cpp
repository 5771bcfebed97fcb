#include "evmesh/filter/filter.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace evmesh::filter {
namespace {

using nlohmann::json;

EventPtr event(std::vector<std::pair<std::string, std::string>> attrs = {}) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/sensors/tn-1").set("type",
                                                                              "com.example.created");
  for (auto& [k, v] : attrs) b.set(k, v);
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev.has_value()) << ev.error().message;
  return *ev;
}

// ---- dialects ----

TEST(FilterMatch, ExactComparesWholeValueCaseSensitive) {
  auto ev = event();
  EXPECT_TRUE(matches(*exact("type", "com.example.created"), *ev));
  EXPECT_FALSE(matches(*exact("type", "com.example"), *ev));
  EXPECT_FALSE(matches(*exact("type", "com.example.created.v2"), *ev));
  EXPECT_FALSE(matches(*exact("type", "COM.EXAMPLE.CREATED"), *ev));
  EXPECT_TRUE(matches(*exact("specversion", "1.0"), *ev));
}

TEST(FilterMatch, PrefixAndSuffix) {
  auto ev = event({{"subject", "images/cat.jpg"}});
  EXPECT_TRUE(matches(*prefix("source", "/sensors/"), *ev));
  EXPECT_TRUE(matches(*prefix("source", "/sensors/tn-1"), *ev));  // whole value
  EXPECT_FALSE(matches(*prefix("source", "/sensors/tn-10"), *ev));  // longer than value
  EXPECT_FALSE(matches(*prefix("source", "sensors"), *ev));
  EXPECT_TRUE(matches(*suffix("subject", ".jpg"), *ev));
  EXPECT_TRUE(matches(*suffix("subject", "images/cat.jpg"), *ev));
  EXPECT_FALSE(matches(*suffix("subject", ".JPG"), *ev));
  EXPECT_FALSE(matches(*suffix("subject", "images"), *ev));
}

TEST(FilterMatch, MissingAttributeIsFalseForEveryLeafDialect) {
  auto ev = event();  // no subject, no extensions
  EXPECT_FALSE(matches(*exact("subject", "x"), *ev));
  EXPECT_FALSE(matches(*prefix("subject", "x"), *ev));
  EXPECT_FALSE(matches(*suffix("subject", "x"), *ev));
  EXPECT_FALSE(matches(*exact("tenant", "x"), *ev));
  // ...so their negation is true.
  EXPECT_TRUE(matches(*negate(exact("subject", "x")), *ev));
}

TEST(FilterMatch, ExtensionsUseTheirCanonicalString) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  b.set("tenant", "acme-eu").set("priority", "7", JsonKind::integer).set("urgent", "true", JsonKind::boolean);
  auto ev = *std::move(b).build();
  EXPECT_TRUE(matches(*exact("tenant", "acme-eu"), *ev));
  EXPECT_TRUE(matches(*prefix("tenant", "acme-"), *ev));
  EXPECT_TRUE(matches(*suffix("tenant", "-eu"), *ev));
  EXPECT_TRUE(matches(*exact("priority", "7"), *ev));
  EXPECT_TRUE(matches(*exact("urgent", "true"), *ev));
  EXPECT_FALSE(matches(*exact("tenant", "acme"), *ev));
}

TEST(FilterMatch, AllAnyNot) {
  auto ev = event();
  auto yes = exact("type", "com.example.created");
  auto no = exact("type", "other");
  EXPECT_TRUE(matches(*all({yes, yes}), *ev));
  EXPECT_FALSE(matches(*all({yes, no}), *ev));
  EXPECT_TRUE(matches(*any({no, yes}), *ev));
  EXPECT_FALSE(matches(*any({no, no}), *ev));
  EXPECT_FALSE(matches(*negate(yes), *ev));
  EXPECT_TRUE(matches(*negate(no), *ev));
  EXPECT_TRUE(matches(*negate(negate(yes)), *ev));
  EXPECT_TRUE(matches(*all({any({no, yes}), negate(no)}), *ev));
}

TEST(FilterMatch, FilterListIsAConjunctionAndEmptyIsTrue) {
  auto ev = event();
  EXPECT_TRUE(matches_all({}, *ev));
  EXPECT_TRUE(matches_all({exact("type", "com.example.created"), prefix("source", "/")}, *ev));
  EXPECT_FALSE(matches_all({exact("type", "com.example.created"), prefix("source", "x")}, *ev));
}

// ---- parsing ----

TEST(FilterParse, EachDialect) {
  auto f = parse_filter(json::parse(R"({"exact": {"type": "a.b"}})"), "filters[0]");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)->dialect, Dialect::exact);
  EXPECT_EQ((*f)->attribute, "type");
  EXPECT_EQ((*f)->value, "a.b");

  f = parse_filter(json::parse(R"({"not": {"any": [{"prefix": {"source": "/"}},
                                                   {"suffix": {"subject": ".jpg"}}]}})"),
                   "x");
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ((*f)->dialect, Dialect::not_);
  ASSERT_EQ((*f)->children.size(), 1u);
  const Filter& a = *(*f)->children[0];
  ASSERT_EQ(a.dialect, Dialect::any);
  ASSERT_EQ(a.children.size(), 2u);
  EXPECT_EQ(a.children[0]->dialect, Dialect::prefix);
  EXPECT_EQ(a.children[1]->dialect, Dialect::suffix);
  EXPECT_EQ(a.children[1]->value, ".jpg");

  f = parse_filter(json::parse(R"({"all": [{"exact": {"myext1": "v"}}]})"), "x");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)->dialect, Dialect::all);
  EXPECT_EQ((*f)->children[0]->attribute, "myext1");
}

TEST(FilterParse, FiltersArray) {
  auto fs = parse_filters(json::parse(R"([{"exact": {"type": "a"}}, {"prefix": {"source": "/"}}])"));
  ASSERT_TRUE(fs) << fs.error().message;
  EXPECT_EQ(fs->size(), 2u);
  fs = parse_filters(json::array());
  ASSERT_TRUE(fs);
  EXPECT_TRUE(fs->empty());
}

struct BadCase {
  const char* json_text;
  const char* message;
  const char* pointer;
};

class FilterParseError : public ::testing::TestWithParam<BadCase> {};

TEST_P(FilterParseError, NamesWhatAndWhere) {
  const BadCase& c = GetParam();
  auto f = parse_filter(json::parse(c.json_text), "filters[0]");
  ASSERT_FALSE(f) << c.json_text;
  EXPECT_EQ(f.error().code, Errc::invalid_subscription);
  EXPECT_EQ(f.error().message, c.message);
  EXPECT_EQ(f.error().pointer, c.pointer);
}

constexpr const char* kDialects = "(exact, prefix, suffix, all, any, not, glob, sql, pattern)";

INSTANTIATE_TEST_SUITE_P(
    Messages, FilterParseError,
    ::testing::Values(
        BadCase{R"([])",
                "filters[0]: a filter expression must be an object such as {\"exact\": {\"type\": "
                "\"com.example.created\"}}, but got an array",
                "filters[0]"},
        BadCase{R"("exact")",
                "filters[0]: a filter expression must be an object such as {\"exact\": {\"type\": "
                "\"com.example.created\"}}, but got a string",
                "filters[0]"},
        BadCase{R"({})",
                "filters[0]: a filter expression names exactly one dialect (exact, prefix, suffix, "
                "all, any, not, glob, sql, pattern), got 0",
                "filters[0]"},
        BadCase{R"({"exact": {"type": "a"}, "prefix": {"source": "/"}})",
                "filters[0]: a filter expression names exactly one dialect (exact, prefix, suffix, "
                "all, any, not, glob, sql, pattern), got 2: 'exact', 'prefix'",
                "filters[0]"},
        BadCase{R"({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})",
                "filters[0]: a filter expression names exactly one dialect (exact, prefix, suffix, "
                "all, any, not, glob, sql, pattern), got 5: 'a', 'b', 'c', ...",
                "filters[0]"},
        BadCase{R"({"regex": {"type": "a.*"}})",
                "filters[0]: unknown filter dialect 'regex' (supported: exact, prefix, suffix, all, "
                "any, not, glob, sql, pattern)",
                "filters[0]"},
        BadCase{R"({"Exact": {"type": "a"}})",
                "filters[0]: unknown filter dialect 'Exact' (supported: exact, prefix, suffix, all, "
                "any, not, glob, sql, pattern)",
                "filters[0]"},
        BadCase{R"({"sql": 42})",
                "filters[0].sql: 'sql' takes a CloudEvents SQL expression as a string, such as "
                "\"type = 'com.example.created'\", but got a number",
                "filters[0].sql"},
        BadCase{R"({"exact": "type"})",
                "filters[0].exact: 'exact' takes an object with one attribute, such as {\"type\": "
                "\"com.example.created\"}, but got a string",
                "filters[0].exact"},
        BadCase{R"({"suffix": ["subject", ".jpg"]})",
                "filters[0].suffix: 'suffix' takes an object with one attribute, such as {\"type\": "
                "\"com.example.created\"}, but got an array",
                "filters[0].suffix"},
        BadCase{R"({"exact": {}})", "filters[0].exact: 'exact' takes at least one attribute, got none",
                "filters[0].exact"},
        BadCase{R"({"prefix": {"type": "a", "source": ""}})",
                "filters[0].prefix.source: the value must not be empty", "filters[0].prefix.source"},
        BadCase{R"({"suffix": {"": ".jpg"}})", "filters[0].suffix: the attribute name is empty",
                "filters[0].suffix"},
        BadCase{R"({"exact": {"Type": "a"}})",
                "filters[0].exact: 'Type' is not a valid CloudEvents attribute name (lower-case "
                "letters a-z and digits only)",
                "filters[0].exact"},
        BadCase{R"({"exact": {"my-ext": "a"}})",
                "filters[0].exact: 'my-ext' is not a valid CloudEvents attribute name (lower-case "
                "letters a-z and digits only)",
                "filters[0].exact"},
        BadCase{R"({"exact": {"type": 5}})",
                "filters[0].exact.type: the value must be a string, got a number",
                "filters[0].exact.type"},
        BadCase{R"({"prefix": {"source": null}})",
                "filters[0].prefix.source: the value must be a string, got a null",
                "filters[0].prefix.source"},
        BadCase{R"({"suffix": {"subject": true}})",
                "filters[0].suffix.subject: the value must be a string, got a boolean",
                "filters[0].suffix.subject"},
        BadCase{R"({"exact": {"type": ""}})", "filters[0].exact.type: the value must not be empty",
                "filters[0].exact.type"},
        BadCase{R"({"all": {"exact": {"type": "a"}}})",
                "filters[0].all: 'all' takes an array of filter expressions, got an object",
                "filters[0].all"},
        BadCase{R"({"any": []})", "filters[0].any: 'any' needs at least one filter expression",
                "filters[0].any"},
        BadCase{R"({"all": []})", "filters[0].all: 'all' needs at least one filter expression",
                "filters[0].all"},
        BadCase{R"({"not": [{"exact": {"type": "a"}}]})",
                "filters[0].not: 'not' takes one filter expression (an object), got an array",
                "filters[0].not"},
        BadCase{R"({"not": {}})",
                "filters[0].not: a filter expression names exactly one dialect (exact, prefix, "
                "suffix, all, any, not, glob, sql, pattern), got 0",
                "filters[0].not"},
        BadCase{R"({"any": [{"exact": {"type": "a"}}, {"all": [{"not": {"regex": {}}}]}]})",
                "filters[0].any[1].all[0].not: unknown filter dialect 'regex' (supported: exact, "
                "prefix, suffix, all, any, not, glob, sql, pattern)",
                "filters[0].any[1].all[0].not"},
        BadCase{R"({"all": [{"exact": {"type": "a"}}, {"prefix": {"source": 1}}]})",
                "filters[0].all[1].prefix.source: the value must be a string, got a number",
                "filters[0].all[1].prefix.source"},
        BadCase{R"({"any": [{"exact": {"type": "a"}}, 7]})",
                "filters[0].any[1]: a filter expression must be an object such as {\"exact\": "
                "{\"type\": \"com.example.created\"}}, but got a number",
                "filters[0].any[1]"}));

TEST(FilterParse, NotAnArrayAndErrorInSecondElement) {
  auto fs = parse_filters(json::parse(R"({"exact": {"type": "a"}})"));
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().message, "filters: must be an array of filter expressions, got an object");
  EXPECT_EQ(fs.error().pointer, "filters");

  fs = parse_filters(json::parse(R"([{"exact": {"type": "a"}}, {"suffix": {"type": ""}}])"));
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().pointer, "filters[1].suffix.type");

  fs = parse_filters(json::parse(R"([{"nope": 1}])"), "spec.filters");
  ASSERT_FALSE(fs);
  EXPECT_EQ(fs.error().pointer, "spec.filters[0]");
  EXPECT_TRUE(fs.error().message.starts_with("spec.filters[0]: unknown filter dialect 'nope'"));
}

json nest_not(int levels) {
  json j = {{"exact", {{"type", "a"}}}};
  for (int i = 1; i < levels; ++i) j = {{"not", j}};
  return j;
}

TEST(FilterParse, DepthLimit) {
  EXPECT_TRUE(parse_filter(nest_not(kMaxDepth), "filters[0]"));
  auto f = parse_filter(nest_not(kMaxDepth + 1), "filters[0]");
  ASSERT_FALSE(f);
  std::string pointer = "filters[0]";
  for (int i = 0; i < kMaxDepth; ++i) pointer += ".not";
  EXPECT_EQ(f.error().pointer, pointer);
  EXPECT_EQ(f.error().message, pointer + ": filters nest deeper than 32 levels");

  // Far deeper input is rejected without descending into it.
  json deep = json::array();
  for (int i = 0; i < 10'000; ++i) {
    json wrapper = json::object();
    wrapper["all"] = std::move(deep);
    deep = json::array();
    deep.push_back(std::move(wrapper));
  }
  EXPECT_FALSE(parse_filters(deep));
}

TEST(FilterParse, UserTextInMessagesIsTruncatedAndPrintable) {
  std::string long_name(200, 'z');
  auto f = parse_filter(json{{long_name, 1}}, "f");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "f: unknown filter dialect '" + std::string(64, 'z') +
                                   "...' (supported: exact, prefix, suffix, all, any, not, glob, sql, pattern)");
  f = parse_filter(json{{"a\nb\x01", 1}}, "f");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("'a?b?'"), std::string::npos) << f.error().message;
  // A cut never splits a UTF-8 sequence: 63 ASCII bytes then a 2-byte character.
  f = parse_filter(json{{std::string(63, 'y') + "\xC3\xA9" + "tail", 1}}, "f");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("'" + std::string(63, 'y') + "...'"), std::string::npos);
}

TEST(FilterParse, NeverThrowsOnAnyJsonShape) {
  const json shapes[] = {nullptr, true, 1, 1.5, -3, "s", json::array(), json::object(),
                         json::array({1, "x", nullptr}), json{{"k", json::array()}}};
  for (const char* dialect : {"exact", "prefix", "suffix", "all", "any", "not", "sql", "glob", "pattern", ""}) {
    for (const auto& body : shapes) {
      json expr = {{dialect, body}};
      EXPECT_NO_THROW((void)parse_filter(expr, "f")) << expr.dump();
      for (const auto& inner : shapes) {
        json leaf = {{dialect, {{"type", inner}}}};
        EXPECT_NO_THROW((void)parse_filter(leaf, "f")) << leaf.dump();
        json list = {{dialect, json::array({inner, body})}};
        EXPECT_NO_THROW((void)parse_filter(list, "f")) << list.dump();
      }
    }
  }
  for (const auto& shape : shapes) EXPECT_NO_THROW((void)parse_filters(shape));
}

// ---- serialisation ----

TEST(FilterJson, RoundTripsThroughParse) {
  const char* docs[] = {
      R"([{"exact": {"type": "com.example.created"}}])",
      R"([{"prefix": {"source": "/sensors/"}}, {"suffix": {"subject": ".jpg"}}])",
      R"([{"all": [{"exact": {"type": "a"}}, {"not": {"prefix": {"myext": "x"}}}]}])",
      R"([{"any": [{"all": [{"suffix": {"id": "7"}}]}, {"not": {"not": {"exact": {"e1": "v"}}}}]}])",
      R"([])",
  };
  for (const char* doc : docs) {
    json in = json::parse(doc);
    auto fs = parse_filters(in);
    ASSERT_TRUE(fs) << doc << ": " << fs.error().message;
    EXPECT_EQ(to_json(*fs), in) << doc;
  }
}

TEST(FilterJson, ConstructorsSerialiseAsTheWireForm) {
  auto f = all({exact("type", "a"), any({prefix("source", "/"), suffix("subject", ".x")}),
                negate(exact("tenant", "t"))});
  json expected = json::parse(R"({"all": [{"exact": {"type": "a"}},
      {"any": [{"prefix": {"source": "/"}}, {"suffix": {"subject": ".x"}}]},
      {"not": {"exact": {"tenant": "t"}}}]})");
  EXPECT_EQ(to_json(*f), expected);
  auto back = parse_filter(expected, "f");
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(**back), expected);
}

TEST(FilterParse, MultiAttributeLeafMeansEveryAttributeMatches) {
  auto f = parse_filter(json::parse(R"({"exact": {"type": "com.github.push", "subject": "spec"}})"),
                        "filters[0]");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)->dialect, Dialect::all);
  EXPECT_EQ((*f)->children.size(), 2u);
  EventBuilder both, one;
  both.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "com.github.push")
      .set("subject", "spec");
  one.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "com.github.push")
      .set("subject", "other");
  EXPECT_TRUE(matches(**f, *std::move(both).build().value()));
  EXPECT_FALSE(matches(**f, *std::move(one).build().value()));
  // Written back in the form the user sent.
  EXPECT_EQ(to_json(**f), json::parse(R"({"exact": {"type": "com.github.push", "subject": "spec"}})"));
}

}  // namespace
}  // namespace evmesh::filter
