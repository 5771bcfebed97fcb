// The evmesh filter dialects: glob, sql (the hook into CESQL), pattern (EventBridge
// style), complexity limits, and the per-event MatchContext.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "evmesh/filter/filter.h"
#include "evmesh/filter/subscription_index.h"

namespace evmesh::filter {
namespace {

using json = nlohmann::json;

EventPtr event(std::string type, std::string data = "", std::string source = "/s") {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", std::move(source)).set("type", std::move(type));
  b.set("flag", "true", JsonKind::boolean).set("seq", "42", JsonKind::integer);
  if (!data.empty()) b.data(std::move(data));
  return *std::move(b).build();
}

bool pattern_matches(const json& body, const Event& ev) {
  auto f = pattern(body);
  EXPECT_TRUE(f) << body.dump() << ": " << (f ? "" : f.error().message);
  return f && matches(**f, ev);
}

std::string error_of(const json& expr) {
  auto f = parse_filter(expr, "filters[0]");
  return f ? std::string("accepted") : f.error().pointer + " | " + f.error().message;
}

TEST(Glob, StarStaysWithinADotSeparatedPartDoubleStarCrossesDots) {
  auto ev = event("com.shop.order.created");
  auto g = [&](const char* p) { return matches(**glob("type", p), *ev); };
  EXPECT_TRUE(g("com.*.order.created"));
  EXPECT_TRUE(g("com.shop.*.*"));
  EXPECT_FALSE(g("com.shop.*"));  // '*' does not cross dots
  EXPECT_FALSE(g("com.*"));
  EXPECT_TRUE(g("com.**"));
  EXPECT_TRUE(g("**.created"));
  EXPECT_TRUE(g("com.sh*p.**"));
  EXPECT_TRUE(g("com.shop.order.created*"));  // '*' may be empty
  EXPECT_FALSE(g("com.*.created"));
  EXPECT_TRUE(g("com.**.created"));
  EXPECT_TRUE(g("com.shop.order.created"));  // no wildcard: exact
  EXPECT_FALSE(g("com.shop.order"));
}

TEST(Glob, ParseErrorsAndComplexityLimit) {
  EXPECT_EQ(error_of({{"glob", {{"type", "a***"}}}}),
            "filters[0].glob.type | filters[0].glob.type: '***': a glob takes '*' (within a "
            "dot-separated part) or '**' (across dots), nothing longer");
  EXPECT_EQ(error_of({{"glob", {{"type", "*a*b*c*d*e*f*g*h*"}}}}),
            "filters[0].glob.type | filters[0].glob.type: too complex: 9 wildcards, at most 8 are "
            "allowed in one value");
  EXPECT_NE(error_of({{"glob", {{"type", std::string(300, 'a') + "*"}}}})
                .find("too complex: a pattern value longer than 255 characters"),
            std::string::npos);
  auto f = parse_filter({{"glob", {{"type", "com.*"}, {"source", "/a/**"}}}}, "f");
  ASSERT_TRUE(f);
  EXPECT_EQ(to_json(**f), json({{"glob", {{"type", "com.*"}, {"source", "/a/**"}}}}));
}

TEST(Glob, IndexAnchorsOnTheLiteralPrefix) {
  std::vector<IndexEntry> entries;
  for (std::uint32_t i = 0; i < 100; ++i)
    entries.push_back({i, {*glob("type", "com.t" + std::to_string(i) + ".*.created")}});
  entries.push_back({100, {*glob("type", "*.created")}});  // suffix anchor
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(index->stats().residual, 0u);
  EXPECT_EQ(index->stats().prefix_anchors, 100u);
  EXPECT_EQ(index->stats().suffix_anchors, 1u);
  std::vector<std::uint32_t> out;
  index->match(*event("com.t7.x.created"), out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::uint32_t>{7}));  // "*.created" does not cross dots
}

TEST(Sql, ParsesMatchesAndReportsPositionedErrors) {
  auto f = sql("type = 'a' AND data.total > 100");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(matches(**f, *event("a", R"({"total": 150})")));
  EXPECT_FALSE(matches(**f, *event("a", R"({"total": 50})")));
  EXPECT_FALSE(matches(**f, *event("b", R"({"total": 150})")));
  EXPECT_FALSE(matches(**f, *event("a")));  // missing data: an error, not TRUE
  EXPECT_EQ(to_json(**f), json({{"sql", "type = 'a' AND data.total > 100"}}));

  auto bad = parse_filter({{"sql", "type = 'a' AND ("}}, "filters[3]");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().pointer, "filters[3].sql");
  EXPECT_NE(bad.error().message.find("position"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(bad.error().message.starts_with("filters[3].sql: ")) << bad.error().message;
}

TEST(Sql, IndexAnchorsOnIndexableConjuncts) {
  std::vector<IndexEntry> entries;
  for (std::uint32_t i = 0; i < 50; ++i)
    entries.push_back({i, {*sql("type = 't" + std::to_string(i) + "' AND data.total > 1")}});
  entries.push_back({50, {*sql("type = 'a' OR source = '/s'")}});  // residual
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(index->stats().residual, 1u);
  EXPECT_EQ(index->stats().exact_anchors, 50u);
  std::vector<std::uint32_t> out;
  index->match(*event("t3", R"({"total": 2})"), out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::uint32_t>{3, 50}));
}

TEST(Pattern, TheIssueExample) {
  json p = json::parse(R"({"type": ["com.shop.order.created"],
      "data": {"total": [{"numeric": [">", 100, "<=", 500]}], "customer": {"tier": ["gold", "platinum"]}}})");
  auto ok = event("com.shop.order.created", R"({"total": 250, "customer": {"tier": "gold"}})");
  EXPECT_TRUE(pattern_matches(p, *ok));
  EXPECT_FALSE(pattern_matches(p, *event("com.shop.order.created", R"({"total": 600, "customer": {"tier": "gold"}})")));
  EXPECT_FALSE(pattern_matches(p, *event("com.shop.order.created", R"({"total": 100, "customer": {"tier": "gold"}})")));
  EXPECT_FALSE(pattern_matches(p, *event("com.shop.order.created", R"({"total": 200, "customer": {"tier": "silver"}})")));
  EXPECT_FALSE(pattern_matches(p, *event("other", R"({"total": 200, "customer": {"tier": "gold"}})")));
  auto f = pattern(p);
  EXPECT_EQ(to_json(**f), json({{"pattern", p}}));
}

TEST(Pattern, ExactValuesAreTyped) {
  auto ev = event("t", R"({"n": 5, "s": "5", "b": true, "z": null, "f": 5.0e0})");
  EXPECT_TRUE(pattern_matches({{"data", {{"n", {5}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"n", {5.0}}}}}, *ev));  // numbers by value
  EXPECT_FALSE(pattern_matches({{"data", {{"n", {"5"}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"s", {"5"}}}}}, *ev));
  EXPECT_FALSE(pattern_matches({{"data", {{"s", {5}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"b", {true}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"z", {nullptr}}}}}, *ev));
  EXPECT_FALSE(pattern_matches({{"data", {{"missing", {nullptr}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"f", {5}}}}}, *ev));
  // Attributes are strings, extensions keep their JSON kind.
  EXPECT_TRUE(pattern_matches({{"seq", {42}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"seq", {{{"numeric", {">", 40}}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"flag", {true}}}, *ev));
  EXPECT_FALSE(pattern_matches({{"flag", {"true"}}}, *ev));
}

TEST(Pattern, ArraysMatchWhenAnyElementDoes) {
  auto ev = event("t", R"({"tags": ["a", "b"], "items": [{"sku": "x"}, {"sku": "y"}]})");
  EXPECT_TRUE(pattern_matches({{"data", {{"tags", {"b"}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"items", {{"sku", {"y"}}}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"data", {{"tags", {{{"anything-but", "a"}}}}}}}, *ev));  // "b"
  EXPECT_FALSE(pattern_matches({{"data", {{"tags", {{{"anything-but", {"a", "b"}}}}}}}}, *ev));
}

TEST(Pattern, Matchers) {
  auto ev = event("com.Shop.Order", R"({"s": "Hello.World", "n": 7})", "/eu/west/1");
  auto m = [&](json values, const char* key = "s") {
    return pattern_matches({{"data", {{key, std::move(values)}}}}, *ev);
  };
  EXPECT_TRUE(m({{{"prefix", "Hello"}}}));
  EXPECT_FALSE(m({{{"prefix", "hello"}}}));
  EXPECT_TRUE(m({{{"suffix", ".World"}}}));
  EXPECT_TRUE(m({{{"equals-ignore-case", "hello.world"}}}));
  EXPECT_TRUE(m({{{"wildcard", "H*.W*d"}}}));
  EXPECT_TRUE(m({{{"wildcard", "*"}}}));
  EXPECT_FALSE(m({{{"wildcard", "H*x"}}}));
  EXPECT_TRUE(m({{{"anything-but", {{"prefix", "x"}}}}}));
  EXPECT_FALSE(m({{{"anything-but", {{"suffix", "World"}}}}}));
  EXPECT_TRUE(m({{{"numeric", {"=", 7}}}}, "n"));
  EXPECT_TRUE(m({{{"numeric", {">=", 7, "<", 8}}}}, "n"));
  EXPECT_FALSE(m({{{"numeric", {">", 7}}}}, "n"));
  EXPECT_FALSE(m({{{"numeric", {">", 0}}}}, "s"));  // strings are not numbers
  EXPECT_TRUE(m({{{"exists", true}}}));
  EXPECT_FALSE(m({{{"exists", false}}}));
  EXPECT_TRUE(m({{{"exists", false}}}, "nope"));
  EXPECT_FALSE(m({{{"anything-but", "x"}}}, "nope"));  // anything-but needs the field
  EXPECT_TRUE(pattern_matches({{"source", {{{"prefix", "/eu/"}}}}}, *ev));
  EXPECT_TRUE(pattern_matches({{"type", {{{"equals-ignore-case", "COM.SHOP.ORDER"}}}}}, *ev));
}

TEST(Pattern, OrBranches) {
  json p = json::parse(R"({"type": ["t"], "$or": [{"data": {"n": [1]}}, {"source": ["/x"]}]})");
  EXPECT_TRUE(pattern_matches(p, *event("t", R"({"n": 1})")));
  EXPECT_TRUE(pattern_matches(p, *event("t", R"({"n": 2})", "/x")));
  EXPECT_FALSE(pattern_matches(p, *event("t", R"({"n": 2})")));
  json nested = json::parse(R"({"data": {"c": {"$or": [{"a": [1]}, {"b": [2]}]}}})");
  EXPECT_TRUE(pattern_matches(nested, *event("t", R"({"c": {"b": 2}})")));
  EXPECT_FALSE(pattern_matches(nested, *event("t", R"({"b": 2})")));
}

TEST(Pattern, DataThatIsNotJsonHasNoFields) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  b.set("datacontenttype", "text/plain").data(std::string(R"({"n": 1})"));
  auto text = *std::move(b).build();
  EXPECT_FALSE(pattern_matches({{"data", {{"n", {1}}}}}, *text));
  EXPECT_TRUE(pattern_matches({{"data", {{"n", {{{"exists", false}}}}}}}, *text));
  EXPECT_FALSE(pattern_matches({{"data", {{"n", {1}}}}}, *event("t", R"({"n": 1)")));  // malformed
  EXPECT_TRUE(pattern_matches({{"data", {{"n", {1}}}}}, *event("t", R"({"n": 1})")));
  EXPECT_TRUE(pattern_matches({{"data", {"hi"}}}, *event("t", R"("hi")")));  // bare scalar data
  EXPECT_TRUE(pattern_matches({{"data", {{"k\"ey", {"\xc3\xa9"}}}}}, *event("t", R"({"k\"ey": "\u00e9"})")));
}

TEST(Pattern, ErrorsNameThePlace) {
  EXPECT_EQ(error_of({{"pattern", {{"Type", {"a"}}}}}),
            "filters[0].pattern | filters[0].pattern: 'Type' is not a valid CloudEvents attribute "
            "name (lower-case letters a-z and digits only); data fields go under \"data\"");
  EXPECT_EQ(error_of({{"pattern", {{"type", "a"}}}}),
            "filters[0].pattern.type | filters[0].pattern.type: an attribute takes a list of values "
            "or matchers, such as [\"com.example.created\"], got a string");
  EXPECT_EQ(error_of({{"pattern", {{"data", {{"n", {{{"numeric", {"<", 1, ">", 0}}}}}}}}}}).substr(0, 36),
            "filters[0].pattern.data.n[0].numeric");
  EXPECT_EQ(error_of({{"pattern", {{"data", {{"n", {{{"regex", "x"}}}}}}}}}),
            "filters[0].pattern.data.n[0].regex | filters[0].pattern.data.n[0].regex: unknown matcher "
            "'regex' (supported: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists)");
  EXPECT_EQ(error_of({{"pattern", json::object()}}),
            "filters[0].pattern | filters[0].pattern: a pattern object needs at least one field");
}

TEST(Pattern, ComplexityLimits) {
  json deep = {{"x", {1}}};
  for (int i = 0; i < 9; ++i) deep = {{"d", deep}};
  EXPECT_NE(error_of({{"pattern", {{"data", deep}}}}).find("too complex: a pattern nests deeper than 8"),
            std::string::npos);
  json many_or = json::array();
  for (int i = 0; i < 17; ++i) many_or.push_back({{"type", {std::to_string(i)}}});
  EXPECT_NE(error_of({{"pattern", {{"$or", many_or}}}}).find("too complex: 17 '$or' branches"),
            std::string::npos);
  json values = json::array();
  for (int i = 0; i < 300; ++i) values.push_back(i);
  EXPECT_NE(error_of({{"pattern", {{"data", {{"n", values}}}}}}).find("too complex: more than 256"),
            std::string::npos);
  EXPECT_NE(error_of({{"pattern", {{"data", {{"s", {{{"wildcard", "*a*a*a*a*a*a*a*a*a"}}}}}}}}})
                .find("too complex: 9 wildcards"),
            std::string::npos);
  json nested_or = {{"type", {"a"}}};
  for (int i = 0; i < 3; ++i) {
    json branches = json::array();
    for (int j = 0; j < 16; ++j) branches.push_back(nested_or);
    nested_or = {{"$or", branches}};
  }
  EXPECT_NE(error_of({{"pattern", nested_or}}).find("too complex"), std::string::npos);
}

TEST(Pattern, IndexAnchorsOnExactDataLeaves) {
  std::vector<IndexEntry> entries;
  for (std::uint32_t i = 0; i < 1000; ++i)
    entries.push_back({i, {*pattern({{"data", {{"customer", {{"id", {i}}}}, {"total", {{{"numeric", {">", 100}}}}}}}})}});
  entries.push_back({1000, {*pattern({{"data", {{"total", {{{"numeric", {">", 100}}}}}}}})}});  // residual
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(index->stats().data_anchors, 1000u);
  EXPECT_EQ(index->stats().residual, 1u);
  std::vector<std::uint32_t> out;
  index->match(*event("t", R"({"customer": {"id": 17}, "total": 150})"), out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::uint32_t>{17, 1000}));
  out.clear();
  index->match(*event("t", R"({"customer": {"id": 17}, "total": 50})"), out);
  EXPECT_TRUE(out.empty());
}

TEST(MatchContext, ParsesDataOncePerEvent) {
  auto ev = event("t", R"({"a": {"b": [1, "x"]}, "c": null, "e": {}, "f": []})");
  MatchContext ctx(*ev);
  EXPECT_EQ(ctx.flatten_count(), 0);
  auto p1 = *pattern({{"data", {{"a", {{"b", {1}}}}}}});
  auto p2 = *pattern({{"data", {{"c", {nullptr}}}}});
  EXPECT_TRUE(matches(*p1, ctx));
  EXPECT_TRUE(matches(*p2, ctx));
  EXPECT_EQ(ctx.flatten_count(), 1);
  auto fields = ctx.fields();
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].path, "a.b");
  EXPECT_EQ(fields[1].path, "a.b");
  EXPECT_EQ(fields[2].path, "c");
  EXPECT_EQ(ctx.fields_at("a.b").size(), 2u);
  ASSERT_NE(ctx.json(), nullptr);
  EXPECT_EQ((*ctx.json())["c"], nullptr);
}

}  // namespace
}  // namespace evmesh::filter
