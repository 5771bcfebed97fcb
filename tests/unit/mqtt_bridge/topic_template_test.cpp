#include "adapters/mqtt_bridge/topic_template.h"

#include <gtest/gtest.h>

namespace evmesh::mqtt_bridge {
namespace {

EventPtr make_event(std::optional<std::string> subject = std::nullopt) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "com.example.t");
  if (subject) b.set("subject", *subject);
  b.set("region", "eu");
  return *std::move(b).build();
}

TEST(SinkUri, SplitsBridgeAndTopic) {
  auto a = parse_sink_uri("mqtt://plant/orders/{type}/x");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bridge, "plant");
  EXPECT_EQ(a->topic, "orders/{type}/x");
  EXPECT_TRUE(parse_sink_uri("MQTT://plant/t"));
}

TEST(SinkUri, NamesWhatIsMissing) {
  struct Case {
    const char* uri;
    const char* message;
  } cases[] = {
      {"http://plant/t", "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\""},
      {"mqtt://", "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\": the bridge name is missing"},
      {"mqtt://plant", "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\": the bridge name is missing"},
      {"mqtt:///t", "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\": the bridge name is missing"},
      {"mqtt://plant/", "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\": the topic is missing"},
  };
  for (const auto& c : cases) {
    auto a = parse_sink_uri(c.uri);
    ASSERT_FALSE(a) << c.uri;
    EXPECT_EQ(a.error().code, Errc::invalid_subscription);
    EXPECT_EQ(a.error().pointer, "sink");
    EXPECT_EQ(a.error().message, c.message) << c.uri;
  }
}

TEST(TopicTemplate, ExpandsAttributes) {
  auto t = TopicTemplate::parse("a/{type}/{region}-x/{subject}");
  ASSERT_TRUE(t);
  auto topic = t->expand(*make_event("42"));
  ASSERT_TRUE(topic);
  EXPECT_EQ(*topic, "a/com.example.t/eu-x/42");
  auto fixed = TopicTemplate::parse("plain/topic");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(*fixed->expand(*make_event()), "plain/topic");
}

TEST(TopicTemplate, RefusesBadTemplates) {
  struct Case {
    std::string text;
    const char* message;
  } cases[] = {
      {"a/+/b", "sink: a topic name may not contain the wildcards + and # or NUL"},
      {"a/#", "sink: a topic name may not contain the wildcards + and # or NUL"},
      {std::string("a\0b", 3), "sink: a topic name may not contain the wildcards + and # or NUL"},
      {"a/{type", "sink: '{' without a closing '}' in the topic"},
      {"a/type}", "sink: '}' without a matching '{' in the topic"},
      {"a/{}", "sink: {} does not name an attribute (lower-case letters and digits)"},
      {"a/{Type}", "sink: {Type} does not name an attribute (lower-case letters and digits)"},
      {"\xff", "sink: the topic is not valid UTF-8"},
      {std::string(70000, 'a'), "sink: the topic is longer than 65535 bytes"},
  };
  for (const auto& c : cases) {
    auto t = TopicTemplate::parse(c.text);
    ASSERT_FALSE(t) << c.text.substr(0, 20);
    EXPECT_EQ(t.error().code, Errc::invalid_subscription);
    EXPECT_EQ(t.error().message, c.message);
  }
}

TEST(TopicTemplate, NamesTheAttributeThatCannotBeUsed) {
  auto t = TopicTemplate::parse("d/{subject}");
  ASSERT_TRUE(t);
  auto missing = t->expand(*make_event());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::invalid_event);
  EXPECT_EQ(missing.error().pointer, "subject");
  EXPECT_EQ(missing.error().message, "the event has no attribute 'subject' for the MQTT topic");
  for (const char* hostile : {"a/+", "#", "x+y"}) {
    auto wild = t->expand(*make_event(hostile));
    ASSERT_FALSE(wild) << hostile;
    EXPECT_EQ(wild.error().pointer, "subject");
    EXPECT_EQ(wild.error().message,
              "attribute 'subject' is empty or holds + # or NUL, which an MQTT topic name may not "
              "contain");
  }
}

}  // namespace
}  // namespace evmesh::mqtt_bridge
