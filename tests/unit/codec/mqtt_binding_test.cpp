#include "evmesh/codec/mqtt_binding.h"

#include <gtest/gtest.h>

#include "evmesh/codec/json_format.h"

namespace evmesh::codec {
namespace {

EventPtr sample(std::optional<std::string> ct = "application/json") {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t.created").set("myext", "x");
  if (ct) b.set("datacontenttype", *ct);
  b.data(std::string(R"({"a":1})"));
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev) << ev.error().message;
  return ev ? *ev : nullptr;
}

TEST(MqttBinding, BinaryRoundTripV5) {
  auto ev = sample();
  auto m = encode_mqtt(*ev, MqttMode::binary, 5, "a/b");
  EXPECT_EQ(m.topic, "a/b");
  EXPECT_EQ(m.content_type, "application/json");
  EXPECT_EQ(m.payload, R"({"a":1})");
  bool has_spec = false;
  for (auto& [k, v] : m.user_properties) {
    EXPECT_NE(k, "datacontenttype");
    if (k == "specversion") has_spec = v == "1.0";
  }
  EXPECT_TRUE(has_spec);
  auto back = decode_mqtt(m, {});
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(**back, *ev);
}

TEST(MqttBinding, StructuredRoundTripV5AndV311) {
  auto ev = sample();
  auto v5 = encode_mqtt(*ev, MqttMode::structured, 5, "t");
  EXPECT_EQ(v5.content_type, "application/cloudevents+json");
  EXPECT_TRUE(v5.user_properties.empty());
  auto back5 = decode_mqtt(v5, {});
  ASSERT_TRUE(back5) << back5.error().message;
  EXPECT_EQ(**back5, *ev);
  // 3.1.1 has no properties: binary is not possible, structured is implied.
  auto v4 = encode_mqtt(*ev, MqttMode::binary, 4, "t");
  EXPECT_FALSE(v4.content_type);
  EXPECT_TRUE(v4.user_properties.empty());
  auto back4 = decode_mqtt(v4, {});
  ASSERT_TRUE(back4) << back4.error().message;
  EXPECT_EQ(**back4, *ev);
}

TEST(MqttBinding, PlainMessageGetsDocumentedDefaults) {
  MqttMessage m{.topic = "devices/42/events", .payload = R"({"temp": 21})", .protocol_version = 4};
  MqttIngestDefaults d{.client_id = "dev 42", .topic_types = {{"devices/+/events", "com.acme.telemetry"}}};
  auto ev = decode_mqtt(m, d);
  ASSERT_TRUE(ev) << ev.error().message;
  EXPECT_EQ((*ev)->source(), "/mqtt/dev%2042");
  EXPECT_EQ((*ev)->type(), "com.acme.telemetry");
  EXPECT_EQ((*ev)->subject(), "devices/42/events");
  EXPECT_EQ((*ev)->attribute("mqtttopic"), "devices/42/events");
  EXPECT_EQ((*ev)->datacontenttype(), "application/json");
  EXPECT_EQ((*ev)->id().size(), 36u);
  EXPECT_EQ(*(*ev)->data(), R"({"temp": 21})");
  auto other = decode_mqtt(MqttMessage{.topic = "x", .payload = "raw bytes"}, d);
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)->type(), "io.evmesh.mqtt.message");
  EXPECT_FALSE((*other)->datacontenttype());
  EXPECT_NE((*other)->id(), (*ev)->id());
}

TEST(MqttBinding, BadInputNamesWhatIsWrong) {
  MqttMessage m{.topic = "t", .payload = "x", .protocol_version = 5};
  m.user_properties = {{"specversion", "1.0"}, {"id", "1"}, {"source", "/s"}};
  auto missing = decode_mqtt(m, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::invalid_event);
  EXPECT_EQ(missing.error().pointer, "type");

  m.user_properties.push_back({"type", "t"});
  m.user_properties.push_back({"id", "2"});
  auto twice = decode_mqtt(m, {});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("more than once"), std::string::npos);

  m.user_properties = {{"specversion", "1.0"}, {"Bad-Name", "v"}};
  auto bad = decode_mqtt(m, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().pointer, "Bad-Name");

  MqttMessage avro{.topic = "t", .payload = "x", .protocol_version = 5,
                   .content_type = "application/cloudevents+avro"};
  auto unsupported = decode_mqtt(avro, {});
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().code, Errc::unsupported_media);

  MqttMessage broken{.topic = "t", .payload = "{not json", .protocol_version = 5,
                     .content_type = "application/cloudevents+json"};
  auto invalid = decode_mqtt(broken, {});
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, Errc::invalid_format);
}

TEST(MqttTopics, MatchingFollowsTheSpec) {
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  EXPECT_TRUE(topic_matches("sport/#", "sport"));
  EXPECT_TRUE(topic_matches("#", "a/b/c"));
  EXPECT_TRUE(topic_matches("sport/+", "sport/"));
  EXPECT_FALSE(topic_matches("sport/+", "sport"));
  EXPECT_TRUE(topic_matches("+/+", "/finance"));
  EXPECT_TRUE(topic_matches("/+", "/finance"));
  EXPECT_FALSE(topic_matches("+", "/finance"));
  EXPECT_FALSE(topic_matches("#", "$SYS/x"));
  EXPECT_FALSE(topic_matches("+/monitor", "$SYS/monitor"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/monitor"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
}

TEST(MqttTopics, Validation) {
  EXPECT_TRUE(valid_topic_filter("a/+/#"));
  EXPECT_TRUE(valid_topic_filter("+"));
  EXPECT_FALSE(valid_topic_filter("a/#/b"));
  EXPECT_FALSE(valid_topic_filter("a+"));
  EXPECT_FALSE(valid_topic_filter("a/b#"));
  EXPECT_FALSE(valid_topic_filter(""));
  EXPECT_TRUE(valid_topic_name("a/b"));
  EXPECT_FALSE(valid_topic_name("a/+"));
  EXPECT_FALSE(valid_topic_name(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace evmesh::codec
