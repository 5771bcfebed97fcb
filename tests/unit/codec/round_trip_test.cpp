// Round trips between the JSON format and the HTTP binding's modes: every attribute
// and every data byte must survive, whatever the data looks like.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "evmesh/codec/http_binding.h"
#include "evmesh/codec/json_format.h"

namespace evmesh::codec {
namespace {

struct DataCase {
  const char* name;
  std::optional<std::string> content_type;
  std::optional<std::string> data;
};

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

std::vector<DataCase> data_cases() {
  return {
      {"binary_all_bytes", "application/octet-stream", all_bytes()},
      {"png_header", "image/png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)},
      {"binary_no_content_type", std::nullopt, std::string("\xff\xfe\x00", 3)},
      {"json_object", "application/json", R"({"z":1.10,"a":[true,null,"caf\u00e9"]})"},
      {"json_pretty", "application/json; charset=utf-8", "{\n  \"k\" : [ 1, 2 ]\n}"},
      {"json_string", "application/json", R"("I'm just a string")"},
      {"json_plus_suffix", "application/geo+json", "[]"},
      {"cloudevent_in_cloudevent", "application/cloudevents+json",
       R"({"specversion":"1.0","id":"inner","source":"/i","type":"t"})"},
      {"json_invalid", "application/json", "{not json"},
      {"xml_text", "application/xml", "<much wow=\"xml\"/>"},
      {"text_utf8", "text/plain; charset=utf-8", "Euro \xE2\x82\xAC \xF0\x9F\x98\x80\n\ttab"},
      {"text_not_utf8", "text/plain", "latin1 \xe9"},
      {"empty_json", "application/json", ""},
      {"empty_binary", "application/octet-stream", ""},
      {"no_data", std::nullopt, std::nullopt},
      {"content_type_no_data", "application/json", std::nullopt},
  };
}

// An event carrying every core attribute and extensions of each kind, with values that
// need percent-encoding in headers and escaping in JSON.
EventPtr full_event(const DataCase& c) {
  EventBuilder b;
  b.set("specversion", "1.0")
      .set("id", "A234 \"1234\" 100%")
      .set("source", "https://example.com/caf%C3%A9?x=1#frag")
      .set("type", "com.example.someevent")
      .set("dataschema", "urn:example:schema:v1")
      .set("subject", "Euro \xE2\x82\xAC \xF0\x9F\x98\x80 'q' \\ /")
      .set("time", "2018-04-05T17:31:00.123456789+05:30")
      .set("comexampleextension1", "value")
      .set("comexampleothervalue", "5", JsonKind::integer)
      .set("negative", "-2147483648", JsonKind::integer)
      .set("flag", "true", JsonKind::boolean)
      .set("numberasstring", "42");
  if (c.content_type) b.set("datacontenttype", *c.content_type);
  if (c.data) b.data(*c.data);
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev) << ev.error().message;
  return *ev;
}

// Binary mode carries no JSON kinds, so compare canonical strings and data bytes.
void expect_same_attributes_and_data(const Event& a, const Event& b) {
  std::vector<std::pair<std::string, std::string>> left, right;
  a.for_each_attribute([&](std::string_view k, std::string_view v) { left.emplace_back(k, v); });
  b.for_each_attribute([&](std::string_view k, std::string_view v) { right.emplace_back(k, v); });
  EXPECT_EQ(left, right);
  ASSERT_EQ(a.has_data(), b.has_data());
  if (a.has_data()) {
    EXPECT_EQ(*a.data(), *b.data());
  }
}

EventPtr decode_single(const HttpMessage& m) {
  auto r = decode_http(m.content_type, m.headers, m.body);
  EXPECT_TRUE(r) << r.error().message << "\n" << m.body;
  if (!r || r->size() != 1) return nullptr;
  return r->front();
}

void PrintTo(const DataCase& c, std::ostream* os) { *os << c.name; }

class RoundTrip : public ::testing::TestWithParam<DataCase> {};

TEST_P(RoundTrip, JsonFormat) {
  EventPtr ev = full_event(GetParam());
  auto back = decode_json_event(std::string_view(encode_json_event(*ev)));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(**back, *ev);  // kinds included
}

TEST_P(RoundTrip, JsonBatchOfThree) {
  EventPtr ev = full_event(GetParam());
  auto back = decode_json_batch(encode_json_batch({ev, ev, ev}));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 3u);
  for (const auto& e : *back) EXPECT_EQ(*e, *ev);
}

TEST_P(RoundTrip, StructuredAndBatchedHttp) {
  EventPtr ev = full_event(GetParam());
  for (HttpMode mode : {HttpMode::structured, HttpMode::batch}) {
    EventPtr back = decode_single(encode_http(*ev, mode));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, *ev);
  }
}

TEST_P(RoundTrip, BinaryHttp) {
  const DataCase& c = GetParam();
  EventPtr ev = full_event(c);
  HttpMessage m = encode_http(*ev, HttpMode::binary);
  EventPtr back = decode_single(m);
  ASSERT_TRUE(back);
  if (m.content_type == kStructuredJson) {  // an event carrying an event goes structured
    EXPECT_EQ(*back, *ev);
    return;
  }
  if (c.content_type && !c.data) {
    // HTTP cannot tell "no data" from an empty body once Content-Type is set.
    EXPECT_EQ(*back->data(), "");
    return;
  }
  if (!c.content_type && c.data && c.data->front() == '\xff') {
    EXPECT_FALSE(back->datacontenttype());  // opaque data gets no invented type
  }
  expect_same_attributes_and_data(*back, *ev);
  EXPECT_EQ(back->extensions().at("comexampleothervalue").kind, JsonKind::string);
}

TEST_P(RoundTrip, BinaryToStructuredToBinaryIsIdentical) {
  // Holds even for content_type_no_data: it arrives as empty data and stays so.
  HttpMessage first = encode_http(*full_event(GetParam()), HttpMode::binary);
  EventPtr from_binary = decode_single(first);
  ASSERT_TRUE(from_binary);
  EventPtr from_structured = decode_single(encode_http(*from_binary, HttpMode::structured));
  ASSERT_TRUE(from_structured);
  HttpMessage again = encode_http(*from_structured, HttpMode::binary);
  EXPECT_EQ(again.headers, first.headers);
  EXPECT_EQ(again.content_type, first.content_type);
  EXPECT_EQ(again.body, first.body);
}

INSTANTIATE_TEST_SUITE_P(Data, RoundTrip, ::testing::ValuesIn(data_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// json-format.md 3.2, fourth example: JSON data without datacontenttype becomes an
// explicit application/json in binary mode, with the string's quotes in the body.
TEST(RoundTripSpec, ImpliedJsonContentTypeBecomesExplicit) {
  auto ev = decode_json_event(std::string_view(R"({"specversion":"1.0","type":"com.example.someevent",
    "source":"/mycontext","subject":null,"id":"D234-1234-1234","time":"2018-04-05T17:31:00Z",
    "comexampleextension1":"value","comexampleothervalue":5,"data":"I'm just a string"})"));
  ASSERT_TRUE(ev) << ev.error().message;
  HttpMessage m = encode_http(**ev, HttpMode::binary);
  EXPECT_EQ(m.content_type, "application/json");
  EXPECT_EQ(m.body, "\"I'm just a string\"");
  EventPtr back = decode_single(m);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->datacontenttype(), "application/json");
  EXPECT_EQ(*back->data(), *(*ev)->data());
  // And into the JSON format again: the same JSON string, now with the explicit type.
  auto j = to_json(*back);
  EXPECT_EQ(j["data"], "I'm just a string");
  EXPECT_EQ(j["comexampleothervalue"], "5");  // binary mode carried no kind
}

TEST(RoundTripSpec, DataBufferIsSharedNotCopied) {
  EventPtr ev = full_event({"x", "application/octet-stream", std::string(1000, 'x')});
  EventBuilder copy(*ev);
  copy.set("deadletterreason", "test");
  auto derived = std::move(copy).build();
  ASSERT_TRUE(derived);
  EXPECT_EQ((*derived)->data().get(), ev->data().get());
}

}  // namespace
}  // namespace evmesh::codec
