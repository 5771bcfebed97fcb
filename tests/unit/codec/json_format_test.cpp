// JSON event format: decoding (spec examples, every rejection), encoding, batches.
#include "evmesh/codec/json_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace evmesh::codec {
namespace {

using nlohmann::json;

// A valid event's members, to which a test adds or overrides one.
json base_event() {
  return {{"specversion", "1.0"}, {"id", "A234-1234-1234"}, {"source", "/mycontext"},
          {"type", "com.example.someevent"}};
}

// decode_json_event(text) needs a string_view argument: a string literal or
// Takes a string_view so string literals and std::string both convert.
Result<EventPtr> decode(std::string_view text) { return decode_json_event(text); }

EventPtr decode_ok(const json& j) {
  auto ev = decode(j.dump());
  EXPECT_TRUE(ev.has_value()) << ev.error().message;
  return ev ? *ev : nullptr;
}

Error decode_error(std::string_view text) {
  auto ev = decode_json_event(text);
  EXPECT_FALSE(ev.has_value()) << text;
  return ev ? Error{} : ev.error();
}

Error json_error(const json& j) { return decode_error(j.dump()); }

json with(std::string_view name, json value) {
  json j = base_event();
  j[std::string(name)] = std::move(value);
  return j;
}

TEST(JsonMediaType, RecognisesJsonTypes) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("text/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/cloudevents+json"));
  EXPECT_TRUE(is_json_media_type("application/vnd.api+json;v=2"));
  EXPECT_FALSE(is_json_media_type("application/xml"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type("application/+json"));
  EXPECT_FALSE(is_json_media_type("json"));
  EXPECT_FALSE(is_json_media_type(""));
}

// json-format.md 3.2, first example (data_base64).
TEST(JsonDecode, SpecExampleWithBinaryData) {
  auto ev = decode(R"({
    "specversion" : "1.0", "type" : "com.example.someevent", "source" : "/mycontext",
    "id" : "A234-1234-1234", "time" : "2018-04-05T17:31:00Z",
    "comexampleextension1" : "value", "comexampleothervalue" : 5,
    "datacontenttype" : "application/vnd.apache.thrift.binary",
    "data_base64" : "AAEC/w==" })");
  ASSERT_TRUE(ev) << ev.error().message;
  const Event& e = **ev;
  EXPECT_EQ(e.specversion(), "1.0");
  EXPECT_EQ(e.type(), "com.example.someevent");
  EXPECT_EQ(e.source(), "/mycontext");
  EXPECT_EQ(e.id(), "A234-1234-1234");
  EXPECT_EQ(e.time(), "2018-04-05T17:31:00Z");
  EXPECT_EQ(e.datacontenttype(), "application/vnd.apache.thrift.binary");
  EXPECT_EQ(e.extensions().at("comexampleextension1"), (Extension{"value", JsonKind::string}));
  EXPECT_EQ(e.extensions().at("comexampleothervalue"), (Extension{"5", JsonKind::integer}));
  ASSERT_TRUE(e.has_data());
  EXPECT_EQ(*e.data(), std::string("\x00\x01\x02\xff", 4));
}

// Second example: XML string data; an extension set to null is unset.
TEST(JsonDecode, SpecExampleWithXmlStringData) {
  json j = base_event();
  j["unsetextension"] = nullptr;
  j["datacontenttype"] = "application/xml";
  j["data"] = "<much wow=\"xml\"/>";
  auto ev = decode_ok(j);
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev->data(), "<much wow=\"xml\"/>");
  EXPECT_FALSE(ev->attribute("unsetextension"));
}

// Third example: object data kept as written (minus surrounding whitespace); subject
// null = unset.
TEST(JsonDecode, SpecExampleWithJsonObjectData) {
  auto ev = decode(R"({"specversion":"1.0","type":"t","source":"/s","id":"C",
    "subject": null, "datacontenttype" : "application/json",
    "data" : { "appinfoA" : "abc", "appinfoB" : 123, "appinfoC" : true } })");
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_FALSE((*ev)->subject());
  EXPECT_EQ(*(*ev)->data(), R"({ "appinfoA" : "abc", "appinfoB" : 123, "appinfoC" : true })");
}

TEST(JsonDecode, JsonDataIsKeptExactlyAsWritten) {
  // A DOM would sort the keys, print 1.1 and round the big integer.
  std::string data = R"({"z": 1.10, "a": [12345678901234567890123, "caf\u00e9"]})";
  auto ev = decode(R"({"specversion":"1.0","type":"t","source":"/s","id":"1","data":)" + data + "}");
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_EQ(*(*ev)->data(), data);
  EXPECT_EQ(encode_json_event(**ev),
            R"({"id":"1","source":"/s","specversion":"1.0","type":"t","data":)" + data + "}");
}

TEST(JsonDecode, LastDataMemberWinsAndEscapedNamesCount) {
  auto ev = decode(
      R"({"data":1,"specversion":"1.0","type":"t","source":"/s","id":"1","d\u0061ta" : [ 2 ] })");
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_EQ(*(*ev)->data(), "[ 2 ]");
}

TEST(JsonDecode, ParsedObjectStoresCompactSerialisation) {
  auto ev = decode_json_object(with("data", json::parse(R"({ "b" : 1 })")));
  ASSERT_TRUE(ev);
  EXPECT_EQ(*(*ev)->data(), R"({"b":1})");
}

// Fourth example: no datacontenttype means JSON, so a string keeps its quotes.
TEST(JsonDecode, SpecExampleWithJsonStringAndNoContentType) {
  auto ev = decode_ok(with("data", "I'm just a string"));
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->datacontenttype());
  EXPECT_EQ(*ev->data(), "\"I'm just a string\"");
}

TEST(JsonDecode, JsonContentTypeParametersAndSuffixesAreJson) {
  json j = with("data", json::array({1, 2}));
  for (const char* ct : {"application/json; charset=utf-8", "text/json", "application/geo+json"}) {
    j["datacontenttype"] = ct;
    auto ev = decode_ok(j);
    ASSERT_TRUE(ev) << ct;
    EXPECT_EQ(*ev->data(), "[1,2]") << ct;
  }
}

TEST(JsonDecode, DataNullIsAJsonNullPayloadForJsonTypes) {
  auto ev = decode_ok(with("data", nullptr));
  ASSERT_TRUE(ev && ev->has_data());
  EXPECT_EQ(*ev->data(), "null");
}

TEST(JsonDecode, DataNullIsNoDataForOtherTypes) {
  json j = with("data", nullptr);
  j["datacontenttype"] = "text/plain";
  auto ev = decode_ok(j);
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->has_data());
  EXPECT_FALSE(decode_ok(with("data_base64", nullptr))->has_data());
}

TEST(JsonDecode, NoDataMemberIsNoData) {
  auto ev = decode_ok(base_event());
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->has_data());
}

TEST(JsonDecode, EmptyDataBase64IsDataOfZeroLength) {
  auto ev = decode_ok(with("data_base64", ""));
  ASSERT_TRUE(ev && ev->has_data());
  EXPECT_EQ(*ev->data(), "");
}

TEST(JsonDecode, ExtensionKindsAndInt32Bounds) {
  json j = base_event();
  j["flag"] = false;
  j["max"] = 2147483647;
  j["min"] = -2147483648LL;
  auto ev = decode_ok(j);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->extensions().at("flag"), (Extension{"false", JsonKind::boolean}));
  EXPECT_EQ(ev->extensions().at("max"), (Extension{"2147483647", JsonKind::integer}));
  EXPECT_EQ(ev->extensions().at("min"), (Extension{"-2147483648", JsonKind::integer}));
}

TEST(JsonDecode, RejectsMissingRequiredAttributes) {
  for (const char* name : {"specversion", "id", "source", "type"}) {
    json j = base_event();
    j.erase(name);
    Error e = json_error(j);
    EXPECT_EQ(e.code, Errc::invalid_event);
    EXPECT_EQ(e.pointer, name);
    EXPECT_EQ(e.message, std::string("required attribute '") + name + "' is missing or empty");
    // null means unset, so a null required attribute is missing too.
    EXPECT_EQ(json_error(with(name, nullptr)).message, e.message);
  }
}

TEST(JsonDecode, RejectsEmptyRequiredAttribute) {
  EXPECT_EQ(json_error(with("id", "")).message, "required attribute 'id' is missing or empty");
}

TEST(JsonDecode, RejectsOtherSpecversions) {
  Error e = json_error(with("specversion", "0.3"));
  EXPECT_EQ(e.pointer, "specversion");
  EXPECT_EQ(e.message, "unsupported specversion '0.3': only '1.0' is accepted");
}

TEST(JsonDecode, RejectsBadTime) {
  Error e = json_error(with("time", "2018-04-05 17:31:00"));
  EXPECT_EQ(e.code, Errc::invalid_event);
  EXPECT_EQ(e.pointer, "time");
  EXPECT_EQ(e.message, "attribute 'time' is invalid: must be an RFC 3339 timestamp");
}

TEST(JsonDecode, RejectsRelativeDataschema) {
  Error e = json_error(with("dataschema", "/schemas/v1"));
  EXPECT_EQ(e.pointer, "dataschema");
  EXPECT_EQ(e.message, "attribute 'dataschema' is invalid: must be an absolute URI");
}

TEST(JsonDecode, RejectsBadSource) {
  Error e = json_error(with("source", "/my context"));
  EXPECT_EQ(e.pointer, "source");
  EXPECT_EQ(e.message, "attribute 'source' is invalid: must be a URI-reference");
}

TEST(JsonDecode, RejectsBadExtensionNames) {
  for (const char* name : {"Foo", "ex_1", "ex-1", "comexample\xc3\xa9"}) {
    Error e = json_error(with(name, "v"));
    EXPECT_EQ(e.code, Errc::invalid_event) << name;
    EXPECT_EQ(e.pointer, name);
    EXPECT_EQ(e.message, std::string("attribute name '") + name +
                             "' is invalid: names are lower-case letters and digits only");
  }
  // A bad name is reported even when its value is null.
  EXPECT_EQ(json_error(with("Foo", nullptr)).pointer, "Foo");
}

TEST(JsonDecode, RejectsControlCharactersAndNoncharacters) {
  for (const char* value : {"a\nb", "\x7f", "\xc2\x85", "\xef\xb7\x90" /* U+FDD0 */}) {
    Error e = json_error(with("subject", value));
    EXPECT_EQ(e.pointer, "subject");
    EXPECT_EQ(e.message,
              "attribute 'subject' is invalid: contains a control character or is not valid UTF-8");
  }
}

TEST(JsonDecode, InvalidUtf8AndLoneSurrogatesAreMalformedJson) {
  Error e = decode_error("{\"specversion\":\"1.0\",\"id\":\"\xc0\xaf\"}");
  EXPECT_EQ(e.code, Errc::invalid_format);
  EXPECT_NE(e.message.find("malformed JSON: parse error at line 1, column"), std::string::npos)
      << e.message;
  EXPECT_EQ(decode_error(R"({"id":"\uDEAD"})").code, Errc::invalid_format);
  // A surrogate pair is a proper character.
  EXPECT_EQ(decode_ok(with("subject", "\xf0\x9f\x98\x80"))->subject(), "\xf0\x9f\x98\x80");
  EXPECT_TRUE(decode(R"({"specversion":"1.0","id":"\uD83D\uDE00","source":"/","type":"t"})"));
}

TEST(JsonDecode, RejectsIntegersOutsideInt32) {
  Error e = json_error(with("count", 2147483648LL));
  EXPECT_EQ(e.code, Errc::invalid_event);
  EXPECT_EQ(e.pointer, "count");
  EXPECT_EQ(e.message, "attribute 'count' is invalid: integer 2147483648 is outside the signed 32-bit range");
  EXPECT_EQ(json_error(with("count", -2147483649LL)).message,
            "attribute 'count' is invalid: integer -2147483649 is outside the signed 32-bit range");
  EXPECT_EQ(json_error(with("count", 18446744073709551615ULL)).pointer, "count");
  Error huge = decode_error(R"({"specversion":"1.0","count":123456789012345678901234567890})");
  EXPECT_EQ(huge.pointer, "count");
  EXPECT_NE(huge.message.find("must be an integer in the signed 32-bit range"), std::string::npos);
}

TEST(JsonDecode, RejectsFractionalNumbers) {
  Error e = decode_error(R"({"specversion":"1.0","id":"1","source":"/","type":"t","rate":5.0})");
  EXPECT_EQ(e.pointer, "rate");
  EXPECT_EQ(e.message,
            "attribute 'rate' is invalid: a number must be an integer in the signed 32-bit range, "
            "got 5.0");
  EXPECT_EQ(decode_error(R"({"specversion":"1.0","rate":1e3})").pointer, "rate");
}

TEST(JsonDecode, RejectsObjectsAndArraysAsAttributes) {
  EXPECT_EQ(json_error(with("ext", json::object())).message,
            "attribute 'ext' is invalid: must be a string, boolean or integer, not an object");
  EXPECT_EQ(json_error(with("ext", json::array())).message,
            "attribute 'ext' is invalid: must be a string, boolean or integer, not an array");
}

TEST(JsonDecode, RejectsNonStringCoreAttributes) {
  EXPECT_EQ(json_error(with("id", 5)).message,
            "attribute 'id' is invalid: must be a JSON string, not a number");
  EXPECT_EQ(json_error(with("time", true)).message,
            "attribute 'time' is invalid: must be a JSON string, not a boolean");
  EXPECT_EQ(json_error(with("specversion", 1.0)).pointer, "specversion");
}

TEST(JsonDecode, RejectsBothDataAndDataBase64) {
  json j = with("data", "x");
  j["data_base64"] = "eA==";
  Error e = json_error(j);
  EXPECT_EQ(e.code, Errc::invalid_event);
  EXPECT_EQ(e.pointer, "data_base64");
  EXPECT_EQ(e.message,
            "members 'data' and 'data_base64' are mutually exclusive: an event carries one or the other");
}

TEST(JsonDecode, RejectsBadBase64) {
  Error e = json_error(with("data_base64", "not base64!"));
  EXPECT_EQ(e.pointer, "data_base64");
  EXPECT_EQ(e.message.rfind("member 'data_base64' is invalid: not RFC 4648 base64", 0), 0u) << e.message;
  EXPECT_EQ(json_error(with("data_base64", 12)).message,
            "member 'data_base64' is invalid: must be a base64 string, not a number");
}

TEST(JsonDecode, RejectsNonStringDataForNonJsonTypes) {
  json j = with("data", json::object({{"a", 1}}));
  j["datacontenttype"] = "application/xml";
  Error e = json_error(j);
  EXPECT_EQ(e.pointer, "data");
  EXPECT_EQ(e.message,
            "member 'data' is invalid: must be a string because datacontenttype 'application/xml' "
            "is not a JSON media type, not an object");
}

TEST(JsonDecode, RejectsMalformedJsonWithPosition) {
  Error e = decode_error(R"({"specversion": "1.0",)");
  EXPECT_EQ(e.code, Errc::invalid_format);
  EXPECT_EQ(e.pointer, "");
  EXPECT_NE(e.message.find("line 1, column 23"), std::string::npos) << e.message;
  EXPECT_EQ(decode_error("").code, Errc::invalid_format);
  EXPECT_EQ(decode_error(R"({"a":1} trailing)").code, Errc::invalid_format);
  EXPECT_EQ(decode_error(R"({"id":1e400})").code, Errc::invalid_format);  // number overflow
}

TEST(JsonDecode, RejectsNonObjects) {
  Error e = decode_error("[]");
  EXPECT_EQ(e.code, Errc::invalid_format);
  EXPECT_EQ(e.message, "a CloudEvent in the JSON format must be a JSON object, not an array");
  EXPECT_EQ(decode_error("\"event\"").code, Errc::invalid_format);
}

TEST(JsonDecode, RejectsExcessiveNesting) {
  std::string deep = R"({"specversion":"1.0","id":"1","source":"/","type":"t","data":)" +
                     std::string(200, '[') + std::string(200, ']') + "}";
  Error e = decode_error(deep);
  EXPECT_EQ(e.code, Errc::invalid_format);
  EXPECT_EQ(e.message, "malformed JSON: nested deeper than 128 levels");
  // Brackets inside strings do not count.
  EXPECT_TRUE(decode_ok(with("data", std::string(300, '['))));
}

TEST(JsonDecode, ParsedObjectOverload) {
  auto ev = decode_json_object(base_event());
  ASSERT_TRUE(ev);
  EXPECT_EQ((*ev)->id(), "A234-1234-1234");
  EXPECT_EQ(decode_json_object(json(5)).error().code, Errc::invalid_format);
}

// ---- encoding -------------------------------------------------------------------

EventPtr make(std::optional<std::string> ct, std::optional<std::string> data) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  if (ct) b.set("datacontenttype", *ct);
  if (data) b.data(*data);
  return *std::move(b).build();
}

TEST(JsonEncode, JsonDataIsEmbeddedAsAValue) {
  json j = to_json(*make("application/json", R"({"a": [1, true]})"));
  EXPECT_EQ(j["data"], json::parse(R"({"a":[1,true]})"));
  EXPECT_FALSE(j.contains("data_base64"));
  EXPECT_EQ(to_json(*make(std::nullopt, "\"s\""))["data"], "s");
  EXPECT_TRUE(to_json(*make(std::nullopt, "null"))["data"].is_null());
}

TEST(JsonEncode, TextDataIsAString) {
  EXPECT_EQ(to_json(*make("application/xml", "<much wow=\"xml\"/>"))["data"], "<much wow=\"xml\"/>");
  EXPECT_EQ(to_json(*make("text/plain; charset=utf-8", "h\xc3\xa9"))["data"], "h\xc3\xa9");
  EXPECT_EQ(to_json(*make("image/svg+xml", "<svg/>"))["data"], "<svg/>");
}

TEST(JsonEncode, EverythingElseIsBase64) {
  EXPECT_EQ(to_json(*make("application/octet-stream", "abc"))["data_base64"], "YWJj");
  EXPECT_EQ(to_json(*make("text/plain", "\xff"))["data_base64"], "/w==");        // not UTF-8
  EXPECT_EQ(to_json(*make("application/json", "{oops"))["data_base64"], "e29vcHM=");  // not JSON
  EXPECT_EQ(to_json(*make(std::nullopt, "\x01\x02"))["data_base64"], "AQI=");
  EXPECT_EQ(to_json(*make("application/json", ""))["data_base64"], "");
  json j = to_json(*make("application/json", std::string(200, '[') + std::string(200, ']')));
  EXPECT_TRUE(j.contains("data_base64"));  // too deep to embed safely
  // A byte order mark is not part of a JSON value: base64 keeps the bytes intact.
  EXPECT_EQ(to_json(*make("application/json", "\xEF\xBB\xBF{}"))["data_base64"], "77u/e30=");
}

TEST(JsonEncode, EncodeSplicesJsonDataVerbatim) {
  EXPECT_EQ(encode_json_event(*make("application/json", "{\"b\": 1,\n \"a\": 2}")),
            R"({"datacontenttype":"application/json","id":"1","source":"/s","specversion":"1.0",)"
            "\"type\":\"t\",\"data\":{\"b\": 1,\n \"a\": 2}}");
  EXPECT_EQ(encode_json_event(*make("text/plain", "hi")),
            R"({"data":"hi","datacontenttype":"text/plain","id":"1","source":"/s",)"
            R"("specversion":"1.0","type":"t"})");
}

TEST(JsonEncode, NoDataNoMember) {
  json j = to_json(*make("application/json", std::nullopt));
  EXPECT_FALSE(j.contains("data"));
  EXPECT_FALSE(j.contains("data_base64"));
  EXPECT_EQ(j["datacontenttype"], "application/json");
}

TEST(JsonEncode, ExtensionsKeepTheirKind) {
  auto ev = decode_ok(R"({"specversion":"1.0","id":"1","source":"/s","type":"t",
                          "n":-7,"b":true,"s":"5"})"_json);
  ASSERT_TRUE(ev);
  json j = to_json(*ev);
  EXPECT_EQ(j["n"], -7);
  EXPECT_EQ(j["b"], true);
  EXPECT_EQ(j["s"], "5");
  EXPECT_EQ(encode_json_event(*ev),
            R"({"b":true,"id":"1","n":-7,"s":"5","source":"/s","specversion":"1.0","type":"t"})");
}

// ---- batches --------------------------------------------------------------------

TEST(JsonBatch, DecodesSpecExample) {
  auto events = decode_json_batch(R"([
    {"specversion":"1.0","type":"com.example.someevent","source":"/mycontext/4",
     "id":"B234-1234-1234","datacontenttype":"application/vnd.apache.thrift.binary",
     "data_base64":"AAE="},
    {"specversion":"1.0","type":"com.example.someotherevent","source":"/mycontext/9",
     "id":"C234-1234-1234","datacontenttype":"application/json","data":{"appinfoC":true}}])");
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(*(*events)[0]->data(), std::string("\x00\x01", 2));
  EXPECT_EQ(*(*events)[1]->data(), R"({"appinfoC":true})");
}

TEST(JsonBatch, EachEventKeepsItsDataAsWritten) {
  auto events = decode_json_batch(R"( [ {"specversion":"1.0","type":"t","source":"/s","id":"1",
    "data" : [1, 2.50]} , {"data":{"x" : null},"specversion":"1.0","type":"t","source":"/s","id":"2"} ] )");
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(*(*events)[0]->data(), "[1, 2.50]");
  EXPECT_EQ(*(*events)[1]->data(), R"({"x" : null})");
}

TEST(JsonBatch, EmptyBatchIsValid) {
  auto events = decode_json_batch("[]");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  EXPECT_EQ(encode_json_batch({}), "[]");
}

TEST(JsonBatch, RejectsNonArrays) {
  auto r = decode_json_batch(base_event().dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_format);
  EXPECT_EQ(r.error().message, "a CloudEvents batch must be a JSON array, not an object");
  EXPECT_EQ(decode_json_batch("[").error().code, Errc::invalid_format);
}

TEST(JsonBatch, FirstBadEventFailsAllWithPointer) {
  json batch = json::array({base_event(), base_event(), with("time", "yesterday")});
  auto r = decode_json_batch(batch.dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_event);
  EXPECT_EQ(r.error().pointer, "/2/time");
  EXPECT_EQ(r.error().message, "batch event 2: attribute 'time' is invalid: must be an RFC 3339 timestamp");
}

TEST(JsonBatch, NonObjectElementPointsAtIndex) {
  auto r = decode_json_batch(json::array({base_event(), 42}).dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_format);
  EXPECT_EQ(r.error().pointer, "/1");
}

TEST(JsonBatch, PointerTokensAreEscaped) {
  auto r = decode_json_batch(json::array({with("a/b~c", 1)}).dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().pointer, "/0/a~1b~0c");
}

TEST(JsonBatch, EncodeDecodeRoundTrip) {
  std::vector<EventPtr> in = {make("application/json", R"({"x":1})"), make("text/plain", "hi"),
                              make(std::nullopt, std::nullopt)};
  auto out = decode_json_batch(encode_json_batch(in));
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(*(*out)[i], *in[i]) << i;
}

}  // namespace
}  // namespace evmesh::codec
