// Mutated and truncated input: decoding never crashes or throws, and whatever it
// accepts is a valid event that survives re-encoding in every mode.
#include <gtest/gtest.h>

#include "evmesh/codec/http_binding.h"
#include "evmesh/codec/json_format.h"

namespace evmesh::codec {
namespace {

constexpr std::string_view kEvent =
    R"({"specversion":"1.0","id":"a\"1","source":"/s","type":"t","time":"2018-04-05T17:31:00Z",)"
    R"("n":-5,"b":true,"datacontenttype":"application/json","data":{"k":[1,"\u00e9",null]}})";
constexpr std::string_view kBase64Event =
    R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"AAEC/w=="})";

// Any event that decodes must come back identical from the JSON format, and with the
// same attribute strings and data from binary mode.
void expect_reencodes(const Event& ev) {
  auto json = decode_json_event(std::string_view(encode_json_event(ev)));
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(**json, ev);
  HttpMessage m = encode_http(ev, HttpMode::binary);
  auto binary = decode_http(m.content_type, m.headers, m.body);
  ASSERT_TRUE(binary) << binary.error().message;
  for (const auto& [name, value] : m.headers)
    EXPECT_EQ(binary->front()->attribute(name.substr(3)), ev.attribute(name.substr(3)));
  if (ev.has_data() && !m.body.empty()) {
    EXPECT_EQ(*binary->front()->data(), *ev.data());
  }
}

void check(std::string_view text) {
  auto single = decode_json_event(text);
  if (single) {
    expect_reencodes(**single);
  } else {
    EXPECT_FALSE(single.error().message.empty());
  }
  if (text.empty()) return;  // "[]" is a valid, empty batch
  auto batch = decode_json_batch("[" + std::string(text) + "]");
  EXPECT_EQ(batch.has_value(), single.has_value()) << text;
}

TEST(Robustness, EveryByteReplaced) {
  const char replacements[] = {'\0', '"', '{', '}', '[', ']', ',', ':', '\\', '\xff', 'e', '-', ' ', '0'};
  for (std::string_view seed : {kEvent, kBase64Event}) {
    for (std::size_t i = 0; i < seed.size(); ++i) {
      for (char r : replacements) {
        std::string text(seed);
        text[i] = r;
        check(text);
      }
    }
  }
}

TEST(Robustness, EveryPrefixAndDeletion) {
  for (std::string_view seed : {kEvent, kBase64Event}) {
    for (std::size_t n = 0; n <= seed.size(); ++n) check(seed.substr(0, n));
    for (std::size_t i = 0; i < seed.size(); ++i) {
      std::string text(seed);
      text.erase(i, 1);
      check(text);
    }
  }
}

TEST(Robustness, MutatedHeaderValues) {
  const std::string values[] = {"%", "%%", "%0", "\"", "\"\\", "\\\"", "%E2%82", "%F4%90%80%80",
                                "\"%22\"", "a\r\nb", std::string(1, '\0'), "%00", ""};
  for (const char* name : {"ce-id", "ce-source", "ce-time", "ce-subject", "ce-ext"}) {
    for (const auto& v : values) {
      std::vector<std::pair<std::string, std::string>> h = {
          {"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}};
      std::erase_if(h, [&](const auto& kv) { return kv.first == name; });
      h.emplace_back(name, v);
      auto r = decode_http("text/plain", h, "body");
      if (r) {
        expect_reencodes(*r->front());
      } else {
        EXPECT_EQ(r.error().pointer, std::string_view(name).substr(3)) << v;
      }
    }
  }
}

}  // namespace
}  // namespace evmesh::codec
