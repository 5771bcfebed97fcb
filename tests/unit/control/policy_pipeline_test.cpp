// Policies and the ingress pipeline: condition shorthands, parsing errors, each
// action, evaluation order, encryption round trips and key rotation, schema
// compatibility rules.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "evmesh/control/condition.h"
#include "evmesh/control/field_crypto.h"
#include "evmesh/control/pipeline.h"
#include "evmesh/control/policy.h"
#include "evmesh/control/schema_compat.h"

namespace evmesh::control {
namespace {

using nlohmann::json;

const std::string kKeys =
    "active: k2\nkeys:\n  k1: \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n"
    "  k2: \"Hx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=\"\n";

EventPtr make_event(std::string type, std::string data, std::string source = "/s") {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", std::move(source)).set("type", std::move(type));
  b.set("datacontenttype", "application/json").data(std::move(data));
  return *std::move(b).build();
}

std::vector<Policy> policies(const json& value) {
  auto p = parse_policies(value);
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : std::vector<Policy>{};
}

TEST(Condition, SeedFormsMapToCesql) {
  EXPECT_EQ(*condition_to_cesql("data contains 'ssn' OR data contains 'email'"),
            "EXISTS data.ssn OR EXISTS data.email");
  EXPECT_EQ(*condition_to_cesql("type startsWith 'com.company.'"), "type LIKE 'com.company.%'");
  EXPECT_EQ(*condition_to_cesql("source ENDSWITH '/eu'"), "source LIKE '%/eu'");
  EXPECT_EQ(*condition_to_cesql("subject contains '50%_off'"), "subject LIKE '%50\\%\\_off%'");
  EXPECT_EQ(*condition_to_cesql("data.customer contains 'id'"), "EXISTS data.customer.id");
  // text inside literals is never rewritten
  EXPECT_EQ(*condition_to_cesql("subject = 'a contains ''b'''"), "subject = 'a contains ''b'''");
}

TEST(Condition, BadShorthandsNameThePosition) {
  auto e = condition_to_cesql("type startsWith 5");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "at position 6: startsWith must be followed by a string literal");
  e = condition_to_cesql("data contains 'a b'");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("takes a field name"), std::string::npos);
}

TEST(PolicySpec, SeedExampleParses) {
  auto p = policies(json::parse(R"({"name": "customer-data-policy", "rules": [
    {"name": "pii-encryption", "condition": "data contains 'ssn' OR data contains 'email'",
     "action": "encrypt-fields", "fields": ["ssn", "email"]},
    {"name": "retention", "condition": "type startsWith 'com.company.'", "action": "set-ttl",
     "ttl-days": 90}]})"));
  ASSERT_EQ(p.size(), 1u);
  ASSERT_EQ(p[0].rules.size(), 2u);
  EXPECT_EQ(p[0].rules[1].ttl_days, 90);
  EXPECT_EQ(p[0].rules[0].cesql, "EXISTS data.ssn OR EXISTS data.email");
}

TEST(PolicySpec, ErrorsPointAtTheKey) {
  struct Case { const char* json; const char* pointer; const char* says; };
  const Case cases[] = {
      {R"({"name": "p", "rules": [{"name": "r", "action": "nope"}]})", "rules[0].action", "must be one of"},
      {R"({"name": "p", "rules": [{"name": "r", "action": "route"}]})", "rules[0].sink", "is required by action route"},
      {R"({"name": "p", "rules": [{"name": "r", "action": "set-extension", "extension": "type", "value": "x"}]})",
       "rules[0].extension", "not a core attribute"},
      {R"({"name": "p", "rules": [{"name": "r", "action": "redact-fields", "fields": ["a..b"]}]})",
       "rules[0].fields[0]", "dotted path"},
      {R"([{"name": "p", "rules": []}, {"name": "p", "rules": []}])", "[1].name", "duplicate policy name"},
      {R"({"name": "p", "rules": [{"name": "r", "condition": "type = ", "action": "drop"}]})",
       "rules[0].condition", "at position"},
  };
  for (const auto& c : cases) {
    auto p = parse_policies(json::parse(c.json));
    ASSERT_FALSE(p) << c.json;
    EXPECT_EQ(p.error().pointer, c.pointer) << c.json;
    EXPECT_NE(p.error().message.find(c.says), std::string::npos) << p.error().message;
  }
}

TEST(Crypto, RoundTripAndRotation) {
  auto keys = KeyRing::parse(kKeys, "keys.yaml");
  ASSERT_TRUE(keys) << keys.error().message;
  const json value = {{"nested", {1, 2, "x"}}};
  auto env = encrypt_value(*keys, value);
  ASSERT_TRUE(env);
  EXPECT_EQ((*env)["kid"], "k2");
  EXPECT_EQ(*decrypt_value(*keys, *env), value);
  // an envelope made under k1 still opens after k2 became active
  auto k1 = KeyRing::parse("active: k1\nkeys:\n  k1: \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n", "old");
  auto old = encrypt_value(*k1, "secret");
  EXPECT_EQ(*decrypt_value(*keys, *old), "secret");
  // tampering is detected
  auto bad = *env;
  bad["ct"] = "AAAA" + bad["ct"].get<std::string>().substr(4);
  EXPECT_FALSE(decrypt_value(*keys, bad));
  bad = *env;
  bad["kid"] = "k9";
  EXPECT_EQ(decrypt_value(*keys, bad).error().message, "no key 'k9' in the key file");
}

TEST(Crypto, BadKeyFilesAreRefused) {
  EXPECT_NE(KeyRing::parse("active: a\nkeys:\n  a: \"c2hvcnQ=\"\n", "f").error().message.find("exactly 32 bytes"),
            std::string::npos);
  auto bad_yaml = KeyRing::parse("active: [k1\nkeys: {}\n", "f");
  ASSERT_FALSE(bad_yaml);
  EXPECT_NE(bad_yaml.error().message.find("f: line "), std::string::npos) << bad_yaml.error().message;
  auto odd_key = KeyRing::parse("active: k1\nkeys:\n  [a]: \"x\"\n", "f");
  ASSERT_FALSE(odd_key);
  EXPECT_NE(KeyRing::parse("active: zz\nkeys:\n  k1: \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n", "f")
                .error().message.find("not in `keys`"),
            std::string::npos);
}

TEST(Pipeline, RulesApplyInOrderOnTheEventAsTransformed) {
  auto p = policies(json::parse(R"({"name": "p", "rules": [
    {"name": "a", "condition": "type = 'old'", "action": "rename-type", "to": "new"},
    {"name": "b", "condition": "type = 'new'", "action": "set-extension", "extension": "seen", "value": "b"},
    {"name": "c", "condition": "seen = 'b'", "action": "redact-fields", "fields": ["pw"]},
    {"name": "d", "condition": "data.pw = '[REDACTED]'", "action": "route", "sink": "audit"}]})"));
  Pipeline pipeline(p, {}, std::nullopt);
  auto out = pipeline.admit(make_event("old", R"({"pw": "hunter2", "u": 1})"));
  ASSERT_TRUE(out && *out);
  const auto& ev = *(*out)->event;
  EXPECT_EQ(ev.type(), "new");
  EXPECT_EQ(ev.attribute("seen"), "b");
  EXPECT_EQ(json::parse(*ev.data()), json::parse(R"({"pw": "[REDACTED]", "u": 1})"));
  EXPECT_EQ((*out)->routes, std::vector<std::string>{"audit"});
}

TEST(Pipeline, DropEndsEvaluation) {
  auto p = policies(json::parse(R"({"name": "p", "rules": [
    {"name": "d", "condition": "type = 'x'", "action": "drop"},
    {"name": "e", "action": "set-extension", "extension": "late", "value": "1"}]})"));
  Pipeline pipeline(p, {}, std::nullopt);
  auto dropped = pipeline.admit(make_event("x", "{}"));
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(*dropped);
  auto kept = pipeline.admit(make_event("y", "{}"));
  EXPECT_EQ((*kept)->event->attribute("late"), "1");
}

TEST(Pipeline, EncryptNeedsKeys) {
  auto p = policies(json::parse(
      R"({"name": "p", "rules": [{"name": "e", "action": "encrypt-fields", "fields": ["ssn"]}]})"));
  EXPECT_NE(Pipeline(p, {}, std::nullopt).check().error().message.find("encryption.key_file"),
            std::string::npos);
  Pipeline pipeline(p, {}, *KeyRing::parse(kKeys, "k"));
  auto out = pipeline.admit(make_event("t", R"({"ssn": "1", "a": {"ssn": 2}})"));
  const auto data = json::parse(*(*out)->event->data());
  EXPECT_TRUE(is_envelope(data["ssn"]));
  EXPECT_EQ(data["a"]["ssn"], 2);  // a path names one field, not every field of that name
  auto copy = data;
  EXPECT_EQ(*decrypt_all(*KeyRing::parse(kKeys, "k"), copy), 1u);
  EXPECT_EQ(copy["ssn"], "1");
}

TEST(SchemaCompat, Rules) {
  const auto v1 = json::parse(R"({"type": "object", "properties": {"a": {"type": "string"},
    "b": {"type": "integer"}, "c": {"enum": ["x", "y"]}}, "required": ["a"]})");
  // adding an optional property is fine both ways
  auto v2 = v1;
  v2["properties"]["d"] = {{"type", "string"}};
  EXPECT_TRUE(compatibility_violations(v1, v2, Compatibility::full).empty());
  // a new required property breaks backward, not forward
  auto req = v1;
  req["required"].push_back("b");
  EXPECT_EQ(compatibility_violations(v1, req, Compatibility::backward).size(), 1u);
  EXPECT_TRUE(compatibility_violations(v1, req, Compatibility::forward).empty());
  // widening integer -> number is backward compatible, not forward
  auto wide = v1;
  wide["properties"]["b"]["type"] = "number";
  EXPECT_TRUE(compatibility_violations(v1, wide, Compatibility::backward).empty());
  EXPECT_FALSE(compatibility_violations(v1, wide, Compatibility::forward).empty());
  // shrinking an enum breaks backward
  auto shrink = v1;
  shrink["properties"]["c"]["enum"] = {"x"};
  auto r = compatibility_violations(v1, shrink, Compatibility::backward);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].find("enum value \"y\""), std::string::npos);
  // closing the object breaks backward
  auto closed = v1;
  closed["additionalProperties"] = false;
  EXPECT_FALSE(compatibility_violations(v1, closed, Compatibility::backward).empty());
  EXPECT_TRUE(compatibility_violations(v1, req, Compatibility::none).empty());
}

}  // namespace
}  // namespace evmesh::control
