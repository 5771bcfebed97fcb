// The mqtt_bridges section: defaults, every key, and each error with its line and key.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace evmesh::control {
namespace {

using std::chrono::milliseconds;
using MqttBridgeConfigTest = testing_util::ConfigFiles;

TEST_F(MqttBridgeConfigTest, DefaultsNeedOnlyTheUrl) {
  auto c = load("mqtt_bridges:\n  plant:\n    url: tcp://127.0.0.1:1883\n");
  ASSERT_EQ(c.mqtt_bridges.size(), 1u);
  const auto& b = c.mqtt_bridges[0];
  EXPECT_EQ(b.name, "plant");
  EXPECT_EQ(b.url, "tcp://127.0.0.1:1883");
  EXPECT_EQ(b.client_id, "evmesh-plant");
  EXPECT_EQ(b.protocol_version, 4);
  EXPECT_EQ(b.keepalive, milliseconds(30'000));
  EXPECT_EQ(b.session_expiry, milliseconds(86'400'000));
  EXPECT_TRUE(b.subscribe.empty());
  EXPECT_EQ(b.default_type, "io.evmesh.mqtt.message");
  EXPECT_EQ(b.max_message_bytes, 1u << 20);
  EXPECT_TRUE(load("").mqtt_bridges.empty());
}

TEST_F(MqttBridgeConfigTest, ReadsEveryKey) {
  auto c = load(
      "mqtt_bridges:\n"
      "  a:\n"
      "    url: tcp://broker.local:8883\n"
      "    client_id: site-1\n"
      "    protocol_version: 5\n"
      "    username: u\n"
      "    password: p\n"
      "    keepalive: 10s\n"
      "    connect_timeout: 2s\n"
      "    session_expiry: 1h\n"
      "    initial_backoff: 100ms\n"
      "    max_backoff: 5s\n"
      "    max_in_flight: 10\n"
      "    max_message_bytes: 64KiB\n"
      "    subscribe: [\"devices/+/events\", \"alarms/#\"]\n"
      "    types:\n"
      "      - {filter: \"alarms/#\", type: com.example.alarm}\n"
      "    default_type: com.example.raw\n"
      "  b:\n"
      "    url: tcp://127.0.0.1:1\n");
  ASSERT_EQ(c.mqtt_bridges.size(), 2u);
  const auto& a = c.mqtt_bridges[0];
  EXPECT_EQ(a.client_id, "site-1");
  EXPECT_EQ(a.protocol_version, 5);
  EXPECT_EQ(a.username, "u");
  EXPECT_EQ(a.password, "p");
  EXPECT_EQ(a.keepalive, milliseconds(10'000));
  EXPECT_EQ(a.connect_timeout, milliseconds(2'000));
  EXPECT_EQ(a.session_expiry, milliseconds(3'600'000));
  EXPECT_EQ(a.initial_backoff, milliseconds(100));
  EXPECT_EQ(a.max_backoff, milliseconds(5'000));
  EXPECT_EQ(a.max_in_flight, 10u);
  EXPECT_EQ(a.max_message_bytes, 64u << 10);
  EXPECT_EQ(a.subscribe, (std::vector<std::string>{"devices/+/events", "alarms/#"}));
  ASSERT_EQ(a.types.size(), 1u);
  EXPECT_EQ(a.types[0].filter, "alarms/#");
  EXPECT_EQ(a.types[0].type, "com.example.alarm");
  EXPECT_EQ(a.default_type, "com.example.raw");
  EXPECT_EQ(c.mqtt_bridges[1].name, "b");
}

TEST_F(MqttBridgeConfigTest, WholeSectionOverride) {
  auto c = load("", {{"mqtt_bridges", "{x: {url: 'tcp://127.0.0.1:1883'}}"}});
  ASSERT_EQ(c.mqtt_bridges.size(), 1u);
  EXPECT_EQ(c.mqtt_bridges[0].name, "x");
}

TEST_F(MqttBridgeConfigTest, ErrorsNameLineAndKey) {
  struct Case {
    std::string yaml;
    int line;
    std::string key;
    std::string message;
  } cases[] = {
      {"mqtt_bridges: [a]\n", 1, "mqtt_bridges", "must be a mapping, got a list"},
      {"mqtt_bridges:\n  a: {}\n", 2, "mqtt_bridges.a.url",
       "is required: the broker as tcp://HOST:PORT"},
      {"mqtt_bridges:\n  a b:\n    url: tcp://h:1\n", 2, "mqtt_bridges.a b",
       "a bridge name must be 1 to 64 characters from A-Z a-z 0-9 - _ (it is the host of "
       "mqtt://NAME/topic sinks)"},
      {"mqtt_bridges:\n  a: 1\n", 2, "mqtt_bridges.a",
       "must be a mapping of bridge settings (url, subscribe, ...)"},
      {"mqtt_bridges:\n  a:\n    url: http://h:1\n", 3, "mqtt_bridges.a.url",
       "must be tcp://HOST:PORT (port 1-65535), got 'http://h:1'"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:99999\n", 3, "mqtt_bridges.a.url",
       "must be tcp://HOST:PORT (port 1-65535), got 'tcp://h:99999'"},
      {"mqtt_bridges:\n  a:\n    url: tcp://:1\n", 3, "mqtt_bridges.a.url",
       "must be tcp://HOST:PORT (port 1-65535), got 'tcp://:1'"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    subscribe: [\"a/#/b\"]\n", 4,
       "mqtt_bridges.a.subscribe[0]",
       "is not a valid MQTT topic filter ('#' only last and alone in its level, '+' alone in "
       "its level, no NUL): 'a/#/b'"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    subscribe: a/b\n", 4,
       "mqtt_bridges.a.subscribe", "must be a list"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    protocol_version: 3\n", 4,
       "mqtt_bridges.a.protocol_version", "must be one of 4, 5, got 3"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    client_id: \"a b\"\n", 4,
       "mqtt_bridges.a.client_id", "must be 1 to 60 printable ASCII characters without spaces"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    initial_backoff: 2s\n    max_backoff: 1s\n",
       5, "mqtt_bridges.a.max_backoff", "must be at least initial_backoff"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    types: [{filter: x}]\n", 4,
       "mqtt_bridges.a.types[0]", "needs both filter and type"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    types: [{filter: x, type: t, y: 1}]\n", 4,
       "mqtt_bridges.a.types[0].y", "unknown key (known: filter, type)"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n    colour: red\n", 4, "mqtt_bridges.a.colour",
       "unknown key (bridge keys: client_id, connect_timeout, default_type, initial_backoff, "
       "keepalive, max_backoff, max_in_flight, max_message_bytes, password, protocol_version, "
       "session_expiry, subscribe, types, url, username)"},
      {"mqtt_bridges:\n  a:\n    url: tcp://h:1\n  b:\n    url: tcp://h:1\n    client_id: "
       "evmesh-a\n",
       6, "mqtt_bridges.b.client_id",
       "client id 'evmesh-a' is also used by bridge 'a' on the same broker: the broker would "
       "disconnect one of them"},
  };
  for (const auto& c : cases) {
    auto e = error(c.yaml);
    EXPECT_EQ(e.line(), c.line) << c.yaml;
    EXPECT_EQ(e.key(), c.key) << c.yaml;
    EXPECT_EQ(std::string(e.what()),
              file() + ":" + std::to_string(c.line) + ": " + c.key + ": " + c.message)
        << c.yaml;
  }
}

}  // namespace
}  // namespace evmesh::control
