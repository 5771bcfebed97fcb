#include "adapters/mqtt_bridge/paho_message.h"

#include <gtest/gtest.h>

namespace evmesh::mqtt_bridge {
namespace {

TEST(PahoMessage, Mqtt5PropertiesRoundTripInOrder) {
  codec::MqttMessage m;
  m.topic = "t/1";
  m.payload = std::string("a\0b", 3);
  m.protocol_version = 5;
  m.content_type = "text/plain";
  m.user_properties = {{"specversion", "1.0"}, {"id", "x"}, {"id", "dup"}};
  auto paho = to_paho(codec::MqttMessage(m));
  EXPECT_EQ(paho->get_qos(), 1);
  EXPECT_FALSE(paho->is_retained());
  auto back = from_paho(*paho, 5);
  EXPECT_EQ(back.topic, m.topic);
  EXPECT_EQ(back.payload, m.payload);
  EXPECT_EQ(back.content_type, m.content_type);
  EXPECT_EQ(back.user_properties, m.user_properties);
  EXPECT_EQ(back.protocol_version, 5);
}

TEST(PahoMessage, Mqtt311CarriesNoProperties) {
  codec::MqttMessage m;
  m.topic = "t";
  m.payload = "{}";
  m.protocol_version = 4;
  m.content_type = "ignored";
  m.user_properties = {{"a", "b"}};
  auto paho = to_paho(std::move(m));
  EXPECT_TRUE(paho->get_properties().empty());
  auto back = from_paho(*paho, 4);
  EXPECT_EQ(back.protocol_version, 4);
  EXPECT_FALSE(back.content_type);
  EXPECT_TRUE(back.user_properties.empty());
}

}  // namespace
}  // namespace evmesh::mqtt_bridge
