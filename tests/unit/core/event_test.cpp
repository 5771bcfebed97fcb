// The event model: attribute validators and EventBuilder's rules (core spec 1.0).
#include "evmesh/core/event.h"

#include <gtest/gtest.h>

namespace evmesh {
namespace {

EventBuilder minimal() {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  return b;
}

// Builds from a builder reference, so chained set()/data() calls can feed it.
EventPtr build_ok(EventBuilder& b) {
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev) << ev.error().message;
  return ev ? *ev : nullptr;
}

Error build_error(EventBuilder b) {
  auto ev = std::move(b).build();
  EXPECT_FALSE(ev);
  return ev ? Error{} : ev.error();
}

// ---- validators -------------------------------------------------------------------

TEST(ValidTimestamp, AcceptsRfc3339DateTimes) {
  for (const char* s : {"2018-04-05T17:31:00Z", "2018-04-05t17:31:00z", "2018-04-05T17:31:00.5Z",
                        "2018-04-05T17:31:00.123456789Z", "2018-04-05T17:31:00+05:30",
                        "2018-04-05T17:31:00-08:00", "2018-04-05T17:31:00.1-00:00",
                        "2018-04-05T00:00:00+23:59", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"})
    EXPECT_TRUE(valid_timestamp(s)) << s;
}

TEST(ValidTimestamp, LeapYears) {
  EXPECT_TRUE(valid_timestamp("2024-02-29T12:00:00Z"));   // divisible by 4
  EXPECT_TRUE(valid_timestamp("2000-02-29T12:00:00Z"));   // divisible by 400
  EXPECT_FALSE(valid_timestamp("1900-02-29T12:00:00Z"));  // divisible by 100 only
  EXPECT_FALSE(valid_timestamp("2023-02-29T12:00:00Z"));
  EXPECT_FALSE(valid_timestamp("2024-02-30T12:00:00Z"));
  EXPECT_TRUE(valid_timestamp("2023-02-28T12:00:00Z"));
}

TEST(ValidTimestamp, DaysPerMonthAndLeapSecond) {
  EXPECT_TRUE(valid_timestamp("2018-01-31T00:00:00Z"));
  EXPECT_FALSE(valid_timestamp("2018-04-31T00:00:00Z"));
  EXPECT_FALSE(valid_timestamp("2018-11-31T00:00:00Z"));
  EXPECT_TRUE(valid_timestamp("2016-12-31T23:59:60Z"));  // RFC 3339 allows second 60
}

TEST(ValidTimestamp, RejectsMalformed) {
  for (const char* s :
       {"", "2018-04-05", "2018-04-05T17:31Z", "2018-04-05T17:31:00", "2018-04-05 17:31:00Z",
        "2018-13-01T00:00:00Z", "2018-00-10T00:00:00Z", "2018-04-00T00:00:00Z",
        "2018-04-05T24:00:00Z", "2018-04-05T12:60:00Z", "2018-04-05T12:00:61Z",
        "2018-04-05T17:31:00.Z", "2018-04-05T17:31:00+0530", "2018-04-05T17:31:00+24:00",
        "2018-04-05T17:31:00+05:60", "2018-04-05T17:31:00Zjunk", "2018-04-05T17:31:00+05:30:00",
        "18-04-05T17:31:00Z", "2018/04/05T17:31:00Z", "2018-4-05T17:31:00Z", "2018-04-05T17:31:00UTC"})
    EXPECT_FALSE(valid_timestamp(s)) << s;
}

TEST(ValidUri, RequiresAScheme) {
  for (const char* s : {"https://example.com/schema", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
                        "mailto:cncf-wg-serverless@lists.cncf.io", "a+b-c.d:x", "x:",
                        "https://example.com/s.json#/definitions/a", "http://a/%C3%A9"})
    EXPECT_TRUE(valid_uri(s)) << s;
  for (const char* s : {"", "/relative", "relative/path", "1http://x", ":nothing", "ht tp://x",
                        "http://exa mple.com", "http_x://y", "http://a/%zz", "http://a/<b>",
                        "http://a/{x}", "http://a/\x01"})
    EXPECT_FALSE(valid_uri(s)) << s;
}

TEST(ValidUriReference, AcceptsSpecExamples) {
  for (const char* s : {"https://github.com/cloudevents", "mailto:cncf-wg-serverless@lists.cncf.io",
                        "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "/cloudevents/spec/pull/123",
                        "/sensors/tn-1234567/alerts", "1-555-123-4567", "#frag", "?q=1", "a%20b",
                        "/caf\xc3\xa9"})
    EXPECT_TRUE(valid_uri_reference(s)) << s;
}

TEST(ValidUriReference, RejectsWhatRfc3986Forbids) {
  for (const char* s : {"", "a b", "a\tb", "a\"b", "a<b", "a>b", "a\\b", "a^b", "a`b", "a{b", "a|b",
                        "a}b", "a%", "a%2", "a%2g", "a#b#c", "a\x7f"})
    EXPECT_FALSE(valid_uri_reference(s)) << s;
}

TEST(ValidInteger, CanonicalInt32Only) {
  for (const char* s : {"0", "-0", "5", "-5", "2147483647", "-2147483648"})
    EXPECT_TRUE(valid_integer(s)) << s;
  for (const char* s : {"", "-", "+5", "007", "-01", "2147483648", "-2147483649", "1.0", "1e3",
                        " 1", "1 ", "0x10", "99999999999999999999", "--1"})
    EXPECT_FALSE(valid_integer(s)) << s;
}

TEST(ValidBoolean, CaseSensitive) {
  EXPECT_TRUE(valid_boolean("true"));
  EXPECT_TRUE(valid_boolean("false"));
  EXPECT_FALSE(valid_boolean("True"));
  EXPECT_FALSE(valid_boolean("1"));
  EXPECT_FALSE(valid_boolean(""));
}

TEST(ValidAttributeName, LowerCaseLettersAndDigits) {
  EXPECT_TRUE(valid_attribute_name("comexampleextension1"));
  EXPECT_TRUE(valid_attribute_name("a0"));
  EXPECT_TRUE(valid_attribute_name(std::string(40, 'a')));  // over 20 is only a SHOULD NOT
  for (const char* s : {"", "Upper", "under_score", "dash-ed", "sp ace", "caf\xc3\xa9"})
    EXPECT_FALSE(valid_attribute_name(s)) << s;
}

TEST(CoreAttributeType, Table) {
  EXPECT_EQ(core_attribute_type("id"), AttrType::string);
  EXPECT_EQ(core_attribute_type("source"), AttrType::uri_reference);
  EXPECT_EQ(core_attribute_type("dataschema"), AttrType::uri);
  EXPECT_EQ(core_attribute_type("time"), AttrType::timestamp);
  EXPECT_EQ(core_attribute_type("datacontenttype"), AttrType::string);
  EXPECT_EQ(core_attribute_type("myext"), std::nullopt);
}

// ---- EventBuilder -------------------------------------------------------------------

TEST(EventBuilder, BuildsAMinimalEvent) {
  auto ev = minimal().build();
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_EQ((*ev)->id(), "1");
  EXPECT_FALSE((*ev)->has_data());
  EXPECT_FALSE((*ev)->time());
}

TEST(EventBuilder, RequiredAttributes) {
  for (const char* name : {"specversion", "id", "source", "type"}) {
    EventBuilder b = minimal();
    b.set(name, "");
    Error e = build_error(std::move(b));
    EXPECT_EQ(e.code, Errc::invalid_event);
    EXPECT_EQ(e.pointer, name);
    EXPECT_EQ(e.message, std::string("required attribute '") + name + "' is missing or empty");
  }
  Error e = build_error(EventBuilder{});
  EXPECT_EQ(e.pointer, "specversion");
}

TEST(EventBuilder, OnlySpecversion10) {
  EventBuilder b = minimal();
  b.set("specversion", "0.3");
  Error e = build_error(std::move(b));
  EXPECT_EQ(e.pointer, "specversion");
  EXPECT_EQ(e.message, "unsupported specversion '0.3': only '1.0' is accepted");
}

TEST(EventBuilder, TypedCoreAttributes) {
  struct Case {
    const char* name;
    const char* value;
    const char* message;
  };
  for (auto [name, value, message] : {
           Case{"time", "yesterday", "attribute 'time' is invalid: must be an RFC 3339 timestamp"},
           Case{"dataschema", "/relative", "attribute 'dataschema' is invalid: must be an absolute URI"},
           Case{"source", "has space", "attribute 'source' is invalid: must be a URI-reference"},
           Case{"subject", "", "attribute 'subject' is invalid: must not be empty"},
           Case{"datacontenttype", "", "attribute 'datacontenttype' is invalid: must not be empty"},
           Case{"dataschema", "", "attribute 'dataschema' is invalid: must not be empty"},
       }) {
    EventBuilder b = minimal();
    b.set(name, value);
    Error e = build_error(std::move(b));
    EXPECT_EQ(e.pointer, name);
    EXPECT_EQ(e.message, message);
  }
}

TEST(EventBuilder, AttributeNames) {
  for (const char* name : {"Foo", "my_ext", "data", ""}) {
    EventBuilder b = minimal();
    b.set(name, "v");
    Error e = build_error(std::move(b));
    EXPECT_EQ(e.pointer, name);
    EXPECT_EQ(e.message, std::string("attribute name '") + name +
                             "' is invalid: names are lower-case letters and digits only, and 'data' "
                             "is reserved");
  }
}

TEST(EventBuilder, StringValuesMustBeAllowedUnicode) {
  const char* bad[] = {"a\nb", "\x1f", "\x7f", "\xc2\x9f" /* U+009F */, "\xc0\xaf" /* overlong */,
                       "\xed\xa0\x80" /* surrogate */, "\xef\xbf\xbe" /* U+FFFE */,
                       "\xef\xb7\x90" /* U+FDD0 */, "\xf4\x90\x80\x80" /* > U+10FFFF */, "\xff",
                       "\xe2\x82" /* truncated */};
  for (const char* v : bad) {
    EventBuilder b = minimal();
    b.set("myext", v);
    Error e = build_error(std::move(b));
    EXPECT_EQ(e.pointer, "myext");
    EXPECT_EQ(e.message, "attribute 'myext' is invalid: contains a control character or is not valid UTF-8");
  }
  EventBuilder ok = minimal();
  ok.set("subject", "Euro \xE2\x82\xAC \xF0\x9F\x98\x80 \xc2\xa0");
  EXPECT_TRUE(std::move(ok).build());
}

TEST(EventBuilder, ExtensionKinds) {
  EventBuilder b = minimal();
  b.set("n", "2147483648", JsonKind::integer);
  Error e = build_error(std::move(b));
  EXPECT_EQ(e.pointer, "n");
  EXPECT_EQ(e.message, "attribute 'n' is invalid: must be an integer in the signed 32-bit range");

  EventBuilder c = minimal();
  c.set("n", "+5", JsonKind::integer);
  EXPECT_EQ(build_error(std::move(c)).pointer, "n");

  EventBuilder d = minimal();
  d.set("flag", "yes", JsonKind::boolean);
  EXPECT_EQ(build_error(std::move(d)).message, "attribute 'flag' is invalid: not a boolean");
}

TEST(EventBuilder, RemoveAndRebuildFromBase) {
  EventBuilder b = minimal();
  b.set("subject", "s").set("myext", "x").data(Bytes("payload"));
  auto ev = std::move(b).build();
  ASSERT_TRUE(ev);
  EventBuilder again(**ev);
  again.remove("subject").remove("myext").set("other", "y");
  auto derived = std::move(again).build();
  ASSERT_TRUE(derived);
  EXPECT_FALSE((*derived)->subject());
  EXPECT_FALSE((*derived)->attribute("myext"));
  EXPECT_EQ((*derived)->attribute("other"), "y");
  EXPECT_EQ((*derived)->data().get(), (*ev)->data().get());  // shared, not copied
}

// ---- Event --------------------------------------------------------------------------

TEST(Event, AttributeLookupAndOrder) {
  EventBuilder b = minimal();
  b.set("time", "2018-04-05T17:31:00Z").set("zeta", "z").set("alpha", "a");
  b.set("datacontenttype", "text/plain");
  auto ev = std::move(b).build();
  ASSERT_TRUE(ev);
  const Event& e = **ev;
  EXPECT_EQ(e.attribute("id"), "1");
  EXPECT_EQ(e.attribute("time"), "2018-04-05T17:31:00Z");
  EXPECT_EQ(e.attribute("alpha"), "a");
  EXPECT_EQ(e.attribute("subject"), std::nullopt);
  EXPECT_EQ(e.attribute("nothing"), std::nullopt);
  std::vector<std::string> names;
  e.for_each_attribute([&](std::string_view k, std::string_view) { names.emplace_back(k); });
  EXPECT_EQ(names, (std::vector<std::string>{"specversion", "id", "source", "type", "datacontenttype",
                                             "time", "alpha", "zeta"}));
}

TEST(Event, EmptyDataIsData) {
  EventBuilder b = minimal();
  b.data(Bytes());
  auto ev = std::move(b).build();
  ASSERT_TRUE(ev);
  EXPECT_TRUE((*ev)->has_data());
  EXPECT_EQ((*ev)->data()->size(), 0u);
}

TEST(Event, EqualityComparesDataBytesNotPointers) {
  auto a = build_ok(minimal().data(Bytes("x")));
  auto b = build_ok(minimal().data(Bytes("x")));
  auto c = build_ok(minimal().data(Bytes("y")));
  auto none = *minimal().build();
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(*a, *none);
  auto kind = build_ok(minimal().set("n", "5", JsonKind::integer));
  auto str = build_ok(minimal().set("n", "5"));
  EXPECT_NE(*kind, *str);
}

TEST(Event, ApproximateSizeCountsAttributesAndData) {
  auto ev = build_ok(minimal().data(Bytes(100, 'x')));
  // "specversion1.0" + "id1" + "source/s" + "typet" + 100 bytes of data
  EXPECT_EQ(ev->approximate_size(), 14u + 3u + 8u + 5u + 100u);
}

}  // namespace
}  // namespace evmesh
