// HTTP protocol binding: header value encoding, mode detection, decoding and encoding
// in binary, structured and batched modes.
#include "evmesh/codec/http_binding.h"

#include <gtest/gtest.h>

namespace evmesh::codec {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers required_headers() {
  return {{"ce-specversion", "1.0"}, {"ce-id", "1234-1234-1234"},
          {"ce-source", "/mycontext/subcontext"}, {"ce-type", "com.example.someevent"}};
}

Headers with(Headers h, std::string name, std::string value) {
  h.emplace_back(std::move(name), std::move(value));
  return h;
}

Headers without(Headers h, std::string_view name) {
  std::erase_if(h, [&](const auto& kv) { return kv.first == name; });
  return h;
}

EventPtr decode_one(std::string_view ct, const Headers& h, std::string body = {}) {
  auto r = decode_http(ct, h, std::move(body));
  EXPECT_TRUE(r) << r.error().message;
  if (!r || r->size() != 1) return nullptr;
  return r->front();
}

Error decode_error(std::string_view ct, const Headers& h, std::string body = {}) {
  auto r = decode_http(ct, h, std::move(body));
  EXPECT_FALSE(r);
  return r ? Error{} : r.error();
}

// ---- header values (3.1.3.2) ------------------------------------------------------

TEST(HeaderValue, EncodesTheSpecExample) {
  EXPECT_EQ(percent_encode_header("Euro \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "Euro%20%E2%82%AC%20%F0%9F%98%80");
}

TEST(HeaderValue, EncodesOnlyWhatTheBindingRequires) {
  EXPECT_EQ(percent_encode_header("a\"b%c"), "a%22b%25c");
  EXPECT_EQ(percent_encode_header("\t\x7f"), "%09%7F");
  std::string printable;
  for (char c = 0x21; c < 0x7F; ++c)
    if (c != '"' && c != '%') printable += c;
  EXPECT_EQ(percent_encode_header(printable), printable);
}

TEST(HeaderValue, DecodesPercentEscapesInEitherCase) {
  EXPECT_EQ(percent_decode_header("Euro%20%e2%82%ac%20%F0%9F%98%80"), "Euro \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(percent_decode_header("%41%42c"), "ABc");  // needless encoding is accepted
  EXPECT_EQ(percent_decode_header("%2541"), "%41");     // one round only
}

TEST(HeaderValue, RejectsMalformedEscapes) {
  for (const char* v : {"%", "%4", "abc%zz", "%G0", "x%2"})
    EXPECT_EQ(percent_decode_header(v), std::nullopt) << v;
}

TEST(HeaderValue, RejectsEscapesThatAreNotUtf8) {
  EXPECT_EQ(percent_decode_header("%C0%A0"), std::nullopt);  // overlong U+0020, the spec's example
  EXPECT_EQ(percent_decode_header("%FF"), std::nullopt);
  EXPECT_EQ(percent_decode_header("%E2%82"), std::nullopt);  // truncated
  EXPECT_EQ(percent_decode_header("%ED%A0%80"), std::nullopt);  // surrogate
}

TEST(HeaderValue, UnquotesDoubleQuotedStringsFirst) {
  EXPECT_EQ(percent_decode_header("\"a b\""), "a b");
  EXPECT_EQ(percent_decode_header(R"("say \"hi\"")"), "say \"hi\"");
  EXPECT_EQ(percent_decode_header("\"a%20b\""), "a b");
  EXPECT_EQ(percent_decode_header("x\"y\"z"), "xyz");
  EXPECT_EQ(percent_decode_header("\"open"), std::nullopt);
  EXPECT_EQ(percent_decode_header("\"ends\\"), std::nullopt);
}

TEST(HeaderValue, TrimsOptionalWhitespace) {
  EXPECT_EQ(percent_decode_header(" \tvalue \t"), "value");
}

// ---- mode detection (3) -----------------------------------------------------------

TEST(DetectMode, StructuredAndBatchByMediaType) {
  EXPECT_EQ(detect_mode("application/cloudevents+json", {}), HttpMode::structured);
  EXPECT_EQ(detect_mode("Application/CloudEvents+JSON; charset=UTF-8", {}), HttpMode::structured);
  EXPECT_EQ(detect_mode("application/cloudevents-batch+json", {}), HttpMode::batch);
  EXPECT_EQ(detect_mode("application/cloudevents-batch+json;charset=\"utf-8\"", {}), HttpMode::batch);
  // The media type wins over ce-* headers, which structured mode MAY also carry.
  EXPECT_EQ(detect_mode("application/cloudevents+json", required_headers()), HttpMode::structured);
}

TEST(DetectMode, BinaryWhenCeSpecversionIsPresent) {
  EXPECT_EQ(detect_mode("application/json", required_headers()), HttpMode::binary);
  EXPECT_EQ(detect_mode("", {{"CE-SpecVersion", "1.0"}}), HttpMode::binary);
}

TEST(DetectMode, RejectsOtherCloudEventsFormats) {
  auto r = detect_mode("application/cloudevents+xml", required_headers());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unsupported_media);
  EXPECT_EQ(r.error().message,
            "Content-Type 'application/cloudevents+xml' is a CloudEvents format this broker does not "
            "support: use application/cloudevents+json, application/cloudevents-batch+json or binary mode");
}

TEST(DetectMode, RejectsCharsetsOtherThanUtf8) {
  auto r = detect_mode("application/cloudevents+json; charset=iso-8859-1", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unsupported_media);
  EXPECT_EQ(r.error().message,
            "Content-Type 'application/cloudevents+json; charset=iso-8859-1' is not supported: "
            "charset 'iso-8859-1' given, but the JSON format is UTF-8");
}

TEST(DetectMode, RejectsMessagesWithoutCloudEvent) {
  auto r = detect_mode("application/json", {{"ce-id", "1"}, {"x-specversion", "1.0"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unsupported_media);
  EXPECT_EQ(r.error().message,
            "not a CloudEvent: Content-Type 'application/json' is not a CloudEvents format and there "
            "is no ce-specversion header");
}

// ---- binary mode (3.1) ------------------------------------------------------------

TEST(BinaryDecode, SpecExample) {
  Headers h = with(with(with(required_headers(), "ce-time", "2018-04-05T03:56:24Z"),
                        "ce-comexampleextension1", "value"),
                   "ce-comexampleothervalue", "5");
  auto ev = decode_one("application/json; charset=utf-8", h, R"({"appinfoA":"abc"})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->specversion(), "1.0");
  EXPECT_EQ(ev->id(), "1234-1234-1234");
  EXPECT_EQ(ev->source(), "/mycontext/subcontext");
  EXPECT_EQ(ev->type(), "com.example.someevent");
  EXPECT_EQ(ev->time(), "2018-04-05T03:56:24Z");
  EXPECT_EQ(ev->datacontenttype(), "application/json; charset=utf-8");
  EXPECT_EQ(ev->extensions().at("comexampleextension1"), (Extension{"value", JsonKind::string}));
  // Headers carry no type: every extension arrives as a string.
  EXPECT_EQ(ev->extensions().at("comexampleothervalue"), (Extension{"5", JsonKind::string}));
  EXPECT_EQ(*ev->data(), R"({"appinfoA":"abc"})");
}

TEST(BinaryDecode, HeaderNamesAreCaseInsensitive) {
  auto ev = decode_one("", {{"CE-SpecVersion", "1.0"}, {"Ce-Id", "1"}, {"CE-SOURCE", "/s"},
                            {"ce-Type", "t"}, {"CE-MyExt", "x"}, {"X-Other", "ignored"}});
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->id(), "1");
  EXPECT_EQ(ev->extensions().at("myext").value, "x");
  EXPECT_EQ(ev->extensions().size(), 1u);
}

TEST(BinaryDecode, ValuesArePercentDecoded) {
  auto ev = decode_one("", with(required_headers(), "ce-subject", "Euro%20%E2%82%AC%20%22q%22"));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->subject(), "Euro \xE2\x82\xAC \"q\"");
}

TEST(BinaryDecode, BodyIsMovedNotCopied) {
  std::string body(4096, 'x');
  const char* buffer = body.data();
  auto ev = decode_one("application/octet-stream", required_headers(), std::move(body));
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->data()->data(), buffer);
}

TEST(BinaryDecode, EmptyBodyWithoutContentTypeIsNoData) {
  auto ev = decode_one("", required_headers());
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->has_data());
  EXPECT_FALSE(ev->datacontenttype());
}

TEST(BinaryDecode, EmptyBodyWithContentTypeIsEmptyData) {
  auto ev = decode_one("text/plain", required_headers());
  ASSERT_TRUE(ev && ev->has_data());
  EXPECT_EQ(*ev->data(), "");
  EXPECT_EQ(ev->datacontenttype(), "text/plain");
}

TEST(BinaryDecode, BodyWithoutContentTypeIsData) {
  auto ev = decode_one("", required_headers(), std::string("\x00\xff", 2));
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->datacontenttype());
  EXPECT_EQ(*ev->data(), std::string("\x00\xff", 2));
}

TEST(BinaryDecode, ErrorsNameTheHeader) {
  Error e = decode_error("", with(required_headers(), "ce-time", "yesterday"));
  EXPECT_EQ(e.code, Errc::invalid_event);
  EXPECT_EQ(e.pointer, "time");
  EXPECT_EQ(e.message, "header 'ce-time' is invalid: must be an RFC 3339 timestamp");

  e = decode_error("", with(required_headers(), "ce-dataschema", "schemas/v1"));
  EXPECT_EQ(e.message, "header 'ce-dataschema' is invalid: must be an absolute URI");

  e = decode_error("", with(required_headers(), "ce-subject", ""));
  EXPECT_EQ(e.message, "header 'ce-subject' is invalid: must not be empty");
}

TEST(BinaryDecode, MissingRequiredHeader) {
  for (const char* name : {"ce-id", "ce-source", "ce-type"}) {
    Error e = decode_error("", without(required_headers(), name));
    EXPECT_EQ(e.code, Errc::invalid_event);
    EXPECT_EQ(e.pointer, std::string(name).substr(3));
    EXPECT_EQ(e.message, std::string("required header '") + name + "' is missing or empty");
  }
}

TEST(BinaryDecode, RejectsOtherSpecversions) {
  Error e = decode_error(
      "", {{"ce-specversion", "0.3"}, {"ce-id", "1"}, {"ce-source", "/"}, {"ce-type", "t"}});
  EXPECT_EQ(e.pointer, "specversion");
  EXPECT_EQ(e.message, "header 'ce-specversion': unsupported specversion '0.3': only '1.0' is accepted");
}

TEST(BinaryDecode, RejectsCeDatacontenttype) {
  Error e = decode_error("application/json", with(required_headers(), "ce-datacontenttype", "text/plain"));
  EXPECT_EQ(e.pointer, "datacontenttype");
  EXPECT_EQ(e.message,
            "header 'ce-datacontenttype' is not allowed in binary mode: the data content type "
            "travels in Content-Type");
}

TEST(BinaryDecode, RejectsRepeatedHeader) {
  Error e = decode_error("", with(required_headers(), "CE-ID", "other"));
  EXPECT_EQ(e.pointer, "id");
  EXPECT_EQ(e.message, "header 'ce-id' is invalid: appears more than once");
}

TEST(BinaryDecode, RejectsBadAttributeNames) {
  for (const char* name : {"ce-my_ext", "ce-", "ce-data", "ce-\xc3\xa9"}) {
    Error e = decode_error("", with(required_headers(), name, "v"));
    EXPECT_EQ(e.code, Errc::invalid_event) << name;
    EXPECT_EQ(e.message, "header '" + std::string(name) +
                             "' is invalid: attribute names are lower-case letters and digits only, "
                             "and 'data' is reserved");
  }
}

TEST(BinaryDecode, RejectsBadPercentEncoding) {
  Error e = decode_error("", with(required_headers(), "ce-subject", "ab%4"));
  EXPECT_EQ(e.pointer, "subject");
  EXPECT_EQ(e.message,
            "header 'ce-subject' is invalid: malformed percent-encoding at offset 2: '%' must be "
            "followed by two hex digits");
  e = decode_error("", with(required_headers(), "ce-subject", "%C0%A0"));
  EXPECT_EQ(e.message, "header 'ce-subject' is invalid: percent-decoded value is not valid UTF-8");
  e = decode_error("", with(required_headers(), "ce-subject", "\"open"));
  EXPECT_EQ(e.message, "header 'ce-subject' is invalid: unterminated double-quoted string");
}

TEST(BinaryDecode, RejectsControlCharacters) {
  Error e = decode_error("", with(required_headers(), "ce-subject", "a%0Ab"));
  EXPECT_EQ(e.message,
            "header 'ce-subject' is invalid: contains a control character or is not valid UTF-8");
  e = decode_error("text/plain\x01", required_headers());
  EXPECT_EQ(e.pointer, "datacontenttype");
  EXPECT_EQ(e.message,
            "header 'Content-Type' is invalid: contains a control character or is not valid UTF-8");
}

// ---- structured and batched modes (3.2, 3.3) --------------------------------------

TEST(StructuredDecode, DecodesTheJsonFormat) {
  auto ev = decode_one("application/cloudevents+json; charset=utf-8", {},
                       R"({"specversion":"1.0","type":"t","source":"/s","id":"1","data":{"k":1}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->id(), "1");
  EXPECT_EQ(*ev->data(), R"({"k":1})");
}

TEST(StructuredDecode, ErrorsComeFromTheJsonFormat) {
  Error e = decode_error(kStructuredJson, {}, R"({"specversion":"1.0"})");
  EXPECT_EQ(e.code, Errc::invalid_event);
  EXPECT_EQ(e.message, "required attribute 'id' is missing or empty");
  EXPECT_EQ(decode_error(kStructuredJson, {}, "{").code, Errc::invalid_format);
  EXPECT_EQ(decode_error(kStructuredJson, {}, "").code, Errc::invalid_format);
}

TEST(BatchDecode, DecodesAllOrNothing) {
  std::string ok = R"({"specversion":"1.0","type":"t","source":"/s","id":"1"})";
  auto r = decode_http(kBatchJson, {}, "[" + ok + "," + ok + "]");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 2u);
  auto empty = decode_http(kBatchJson, {}, "[]");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  Error e = decode_error(kBatchJson, {}, "[" + ok + R"(,{"specversion":"1.0","id":"2","source":"/s"}])");
  EXPECT_EQ(e.pointer, "/1/type");
  EXPECT_EQ(e.message, "batch event 1: required attribute 'type' is missing or empty");
  EXPECT_EQ(decode_error(kBatchJson, {}, ok).message,
            "a CloudEvents batch must be a JSON array, not an object");
}

TEST(HttpDecode, UnsupportedMediaIsReported) {
  Error e = decode_error("text/plain", {}, "hello");
  EXPECT_EQ(e.code, Errc::unsupported_media);
}

// ---- encoding ---------------------------------------------------------------------

EventPtr sample(std::optional<std::string> ct, std::optional<std::string> data) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  b.set("subject", "caf\xc3\xa9 \"menu\" 100%").set("time", "2018-04-05T17:31:00Z");
  b.set("count", "5", JsonKind::integer);
  if (ct) b.set("datacontenttype", *ct);
  if (data) b.data(*data);
  return *std::move(b).build();
}

TEST(BinaryEncode, AttributesBecomePercentEncodedHeaders) {
  HttpMessage m = encode_http(*sample("application/xml", "<x/>"), HttpMode::binary);
  Headers expected = {{"ce-specversion", "1.0"},
                      {"ce-id", "1"},
                      {"ce-source", "/s"},
                      {"ce-type", "t"},
                      {"ce-subject", "caf%C3%A9%20%22menu%22%20100%25"},
                      {"ce-time", "2018-04-05T17:31:00Z"},
                      {"ce-count", "5"}};
  EXPECT_EQ(m.headers, expected);
  EXPECT_EQ(m.content_type, "application/xml");
  EXPECT_EQ(m.body, "<x/>");
}

TEST(BinaryEncode, ImpliedJsonContentTypeIsMadeExplicit) {
  EXPECT_EQ(encode_http(*sample(std::nullopt, R"("I'm just a string")"), HttpMode::binary).content_type,
            "application/json");
  // Opaque data without a content type stays without one.
  EXPECT_EQ(encode_http(*sample(std::nullopt, "\x01\x02"), HttpMode::binary).content_type, "");
  HttpMessage none = encode_http(*sample(std::nullopt, std::nullopt), HttpMode::binary);
  EXPECT_EQ(none.content_type, "");
  EXPECT_EQ(none.body, "");
}

TEST(BinaryEncode, AnEventCarryingAnEventIsSentStructured) {
  // As a binary Content-Type, application/cloudevents+json would make the receiver
  // read the data as the event itself.
  HttpMessage m = encode_http(*sample("Application/CloudEvents+JSON", R"({"id":"inner"})"), HttpMode::binary);
  EXPECT_EQ(m.content_type, kStructuredJson);
  EXPECT_TRUE(m.headers.empty());
  auto back = decode_http(m.content_type, m.headers, m.body);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back->front()->data(), R"({"id":"inner"})");
}

TEST(StructuredEncode, BodyIsTheJsonFormat) {
  HttpMessage m = encode_http(*sample("application/json", R"({"a":1})"), HttpMode::structured);
  EXPECT_EQ(m.content_type, kStructuredJson);
  EXPECT_TRUE(m.headers.empty());
  EXPECT_EQ(m.body,
            R"({"count":5,"datacontenttype":"application/json","id":"1","source":"/s",)"
            R"("specversion":"1.0","subject":"café \"menu\" 100%","time":"2018-04-05T17:31:00Z","type":"t",)"
            R"("data":{"a":1}})");
}

TEST(BatchEncode, BodyIsABatchOfOne) {
  HttpMessage m = encode_http(*sample(std::nullopt, std::nullopt), HttpMode::batch);
  EXPECT_EQ(m.content_type, kBatchJson);
  auto back = decode_http(m.content_type, m.headers, m.body);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ(*back->front(), *sample(std::nullopt, std::nullopt));
}

}  // namespace
}  // namespace evmesh::codec
