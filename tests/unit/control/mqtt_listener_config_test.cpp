// The `mqtt` section (the native listener): defaults, every key, overrides, errors.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace evmesh::control {
namespace {

using std::chrono::milliseconds;
using MqttListenerConfigTest = testing_util::ConfigFiles;

TEST_F(MqttListenerConfigTest, OffByDefault) {
  auto c = load("");
  EXPECT_FALSE(c.mqtt.enabled);
  EXPECT_EQ(c.mqtt.host, "127.0.0.1");
  EXPECT_EQ(c.mqtt.port, 1883);
  EXPECT_EQ(c.mqtt.event_topic, "events/{type}");
  EXPECT_EQ(c.mqtt.event_qos, 1u);
  EXPECT_EQ(c.mqtt.max_keep_alive, milliseconds(60'000));
  EXPECT_TRUE(c.mqtt.topic_types.empty());
}

TEST_F(MqttListenerConfigTest, ReadsEveryKey) {
  auto c = load(
      "mqtt:\n"
      "  enabled: true\n"
      "  host: 0.0.0.0\n"
      "  port: 0\n"
      "  max_packet_bytes: 64KiB\n"
      "  max_connections: 10\n"
      "  receive_maximum: 5\n"
      "  topic_alias_maximum: 0\n"
      "  connect_timeout: 2s\n"
      "  max_keep_alive: 20m\n"
      "  max_queued_messages: 7\n"
      "  slow_subscriber_timeout: 1500ms\n"
      "  max_session_expiry: 1h\n"
      "  max_retained_messages: 3\n"
      "  event_topic: 'ce/{source}/{type}'\n"
      "  event_mode: structured\n"
      "  event_qos: 2\n"
      "  source_prefix: 'urn:mqtt:'\n"
      "  default_type: t\n"
      "  topic_types:\n"
      "    - {filter: 'devices/+/events', type: com.acme.event}\n");
  const auto& m = c.mqtt;
  EXPECT_TRUE(m.enabled);
  EXPECT_EQ(m.host, "0.0.0.0");
  EXPECT_EQ(m.port, 0);
  EXPECT_EQ(m.max_packet_bytes, 64u * 1024);
  EXPECT_EQ(m.max_connections, 10u);
  EXPECT_EQ(m.receive_maximum, 5);
  EXPECT_EQ(m.topic_alias_maximum, 0);
  EXPECT_EQ(m.connect_timeout, milliseconds(2000));
  EXPECT_EQ(m.max_keep_alive, milliseconds(1'200'000));
  EXPECT_EQ(m.max_queued_messages, 7u);
  EXPECT_EQ(m.slow_subscriber_timeout, milliseconds(1500));
  EXPECT_EQ(m.max_session_expiry, milliseconds(3'600'000));
  EXPECT_EQ(m.max_retained_messages, 3u);
  EXPECT_EQ(m.event_topic, "ce/{source}/{type}");
  EXPECT_EQ(m.event_mode, "structured");
  EXPECT_EQ(m.event_qos, 2u);
  EXPECT_EQ(m.source_prefix, "urn:mqtt:");
  EXPECT_EQ(m.default_type, "t");
  ASSERT_EQ(m.topic_types.size(), 1u);
  EXPECT_EQ(m.topic_types[0].filter, "devices/+/events");
  EXPECT_EQ(m.topic_types[0].type, "com.acme.event");
}

TEST_F(MqttListenerConfigTest, Overrides) {
  auto c = load("", {{"mqtt.enabled", "true"}, {"mqtt.port", "0"}}, {"EVMESH_MQTT__EVENT_QOS=0"});
  EXPECT_TRUE(c.mqtt.enabled);
  EXPECT_EQ(c.mqtt.port, 0);
  EXPECT_EQ(c.mqtt.event_qos, 0u);
}

TEST_F(MqttListenerConfigTest, ErrorsNameFileLineAndKey) {
  auto bad_filter = error("mqtt:\n  topic_types:\n    - {filter: 'a/#/b', type: t}\n");
  EXPECT_EQ(bad_filter.key(), "mqtt.topic_types[0].filter");
  EXPECT_EQ(bad_filter.line(), 3);
  EXPECT_NE(std::string(bad_filter.what()).find("topic filter"), std::string::npos);
  EXPECT_EQ(error("mqtt:\n  topic_types:\n    - {filter: a}\n").key(), "mqtt.topic_types[0]");
  EXPECT_EQ(error("mqtt:\n  topic_types: x\n").key(), "mqtt.topic_types");
  EXPECT_EQ(error("mqtt:\n  event_qos: 3\n").key(), "mqtt.event_qos");
  EXPECT_EQ(error("mqtt:\n  event_mode: both\n").key(), "mqtt.event_mode");
  EXPECT_EQ(error("mqtt:\n  receive_maximum: 0\n").key(), "mqtt.receive_maximum");
  // Server Keep Alive is whole seconds in 16 bits.
  for (const char* bad : {"1500ms", "65536s", "500ms"}) {
    auto e = error(std::string("mqtt:\n  max_keep_alive: ") + bad + "\n");
    EXPECT_EQ(e.key(), "mqtt.max_keep_alive") << bad;
    EXPECT_NE(std::string(e.what()).find("whole seconds from 1s to 65535s"), std::string::npos)
        << bad << ": " << e.what();
  }
  EXPECT_EQ(error("mqtt:\n  max_keep_alive: 0s\n").key(), "mqtt.max_keep_alive");
  auto unknown = error("mqtt:\n  prot: 1\n");
  EXPECT_EQ(unknown.key(), "mqtt.prot");
  EXPECT_NE(std::string(unknown.what()).find("topic_alias_maximum"), std::string::npos);
}

}  // namespace
}  // namespace evmesh::control
