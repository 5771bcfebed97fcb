// Subscriptions declared in the YAML config: the API object plus a required id;
// YAML typing; errors mapped back to the line of the offending node.
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using SubscriptionsConfigTest = testing_util::ConfigFiles;

void expect_error(const ConfigError& e, const std::string& file, int line, const std::string& key,
                  const std::string& message) {
  EXPECT_EQ(e.file(), file);
  EXPECT_EQ(e.line(), line);
  EXPECT_EQ(e.key(), key);
  EXPECT_EQ(std::string(e.what()), file + ":" + std::to_string(line) + ": " + key + ": " + message);
}

TEST_F(SubscriptionsConfigTest, ReadsSubscriptionsWithTheDeliveryDefaults) {
  auto c = load(R"(
delivery:
  mode: structured
  maxattempts: 4
  deadlettersink: http://127.0.0.1:9001/dlq
subscriptions:
  - id: orders
    source: /shop
    types: [com.example.order.created]
    config: {interval: 5, label: "x"}
    filters:
      - prefix: {subject: "eu/"}
      - not: {exact: {type: "123"}}
    sink: http://127.0.0.1:9000/orders
    protocol: HTTP
    protocolsettings:
      method: PUT
      headers: {x-api-key: "secret"}
    delivery:
      mode: binary
      timeout: 2s
  - id: 42
    sink: http://127.0.0.1:9000/other
    delivery: {deadlettersink: null}
)");
  ASSERT_EQ(c.subscriptions.size(), 2u);
  const auto& orders = c.subscriptions[0];
  EXPECT_EQ(orders.id, "orders");
  EXPECT_TRUE(orders.declared_in_config);
  EXPECT_EQ(orders.source, "/shop");
  EXPECT_EQ(orders.types, std::vector<std::string>{"com.example.order.created"});
  EXPECT_EQ(orders.config, json::parse(R"({"interval": 5, "label": "x"})"));
  // A quoted "123" stays a string filter value.
  EXPECT_EQ(
      filter::to_json(orders.filters),
      json::parse(R"([{"prefix": {"subject": "eu/"}}, {"not": {"exact": {"type": "123"}}}])"));
  EXPECT_EQ(orders.sink.method, "PUT");
  EXPECT_EQ(orders.sink.headers,
            (std::vector<std::pair<std::string, std::string>>{{"x-api-key", "secret"}}));
  EXPECT_EQ(orders.sink.mode, DeliveryMode::binary);
  EXPECT_EQ(orders.sink.timeout, milliseconds(2000));
  EXPECT_EQ(orders.delivery.retry.max_attempts, 4u);  // from the delivery section
  ASSERT_TRUE(orders.delivery.dead_letter);
  EXPECT_EQ(orders.delivery.dead_letter->mode, DeliveryMode::binary);  // follows the subscription
  EXPECT_EQ(orders.delivery.dead_letter->timeout, milliseconds(2000));

  const auto& other = c.subscriptions[1];
  EXPECT_EQ(other.id, "42");  // as written, though YAML reads it as a number
  EXPECT_EQ(other.sink.mode, DeliveryMode::structured);
  EXPECT_FALSE(other.delivery.dead_letter);
}

TEST_F(SubscriptionsConfigTest, ToJsonOfAConfigSubscriptionParsesBack) {
  auto c = load("subscriptions:\n  - {id: a, sink: \"http://127.0.0.1:9000/\", types: [t]}\n");
  ASSERT_EQ(c.subscriptions.size(), 1u);
  auto again = parse_subscription(to_json(c.subscriptions[0]), c.delivery, c.sink_defaults);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(to_json(*again), to_json(c.subscriptions[0]));
}

TEST_F(SubscriptionsConfigTest, PlainScalarsAreTypedQuotedOnesAreStrings) {
  // Plain 123 is a number, so a filter value written that way is refused...
  auto e = error(
      "subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9000/\n    filters:\n"
      "      - exact: {type: 123}\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_TRUE(e.key().starts_with("subscriptions[0].filters[0].exact")) << e.key();
  // ...and a quoted number is a string where an integer is expected.
  expect_error(error("subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9000/\n    delivery:\n"
                     "      maxattempts: \"5\"\n"),
               file(), 5, "subscriptions[0].delivery.maxattempts",
               "must be an integer between 1 and 4294967295, got \"5\"");
  // Header values: plain true is a boolean.
  expect_error(error("subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9000/\n"
                     "    protocolsettings:\n      headers:\n        x.flag: true\n"),
               file(), 6, "subscriptions[0].protocolsettings.headers.x.flag",
               "must be a string, got true");
}

TEST_F(SubscriptionsConfigTest, ErrorsNameTheSubscriptionKeyAndLine) {
  const std::string head =
      "subscriptions:\n  - id: ok\n    sink: http://127.0.0.1:9000/\n";  // lines 1-3
  expect_error(
      error(head + "  - id: b\n    sinc: http://x/\n"), file(), 5, "subscriptions[1].sinc",
      "unknown property \"sinc\" (known: id, source, types, config, filters, sink, protocol, "
      "protocolsettings, delivery, durable, replay)");
  expect_error(error(head + "  - id: b\n    types: []\n"), file(), 5, "subscriptions[1].types",
               "must list at least one type (leave it out to accept every type)");
  expect_error(
      error(head + "  - id: b\n    source: /x\n"), file(), 4, "subscriptions[1].sink",
      "is required: the URI events are delivered to, such as \"http://127.0.0.1:9000/hook\"");
  expect_error(error(head + "  - id: b\n    sink: mqtt://h/t\n"), file(), 4,
               "subscriptions[1].protocol",
               "is required (it may be left out only for http:// and https:// sinks)");
  expect_error(error(head + "  - id: b\n    sink: http://h/\n    protocol: MQTT5\n"), file(), 6,
               "subscriptions[1].protocol",
               "protocol 'MQTT5' is not supported yet (supported: HTTP, GRPC, MQTT)");
  expect_error(error(head + "  - id: b\n    sink: http://h/\n    delivery:\n      mode: binary\n"
                            "      concurrency: 0\n"),
               file(), 8, "subscriptions[1].delivery.concurrency",
               "must be an integer between 1 and 1024, got 0");
  expect_error(
      error(head + "  - id: b\n    sink: http://h/\n    types:\n      - a\n      - \"\"\n"), file(),
      8, "subscriptions[1].types[1]", "must be a non-empty string, got \"\"");
}

TEST_F(SubscriptionsConfigTest, FilterErrorsPointIntoTheFilter) {
  auto e = error(
      "subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9000/\n    filters:\n"
      "      - prefix: {type: a}\n      - any:\n          - exact: {type: b}\n"
      "          - nope: {type: c}\n");
  EXPECT_EQ(e.file(), file());
  EXPECT_TRUE(e.key().starts_with("subscriptions[0].filters[1].any[1]")) << e.key();
  EXPECT_EQ(e.line(), 8) << e.what();
}

TEST_F(SubscriptionsConfigTest, IdIsRequiredUniqueAndUrlSafe) {
  expect_error(error("subscriptions:\n  - sink: http://127.0.0.1:9000/\n"), file(), 2,
               "subscriptions[0].id",
               "is required: every subscription in the config needs a unique id");
  expect_error(error("subscriptions:\n  - id: \"a b\"\n    sink: http://127.0.0.1:9000/\n"), file(),
               2, "subscriptions[0].id",
               "must be at most 128 characters from A-Z a-z 0-9 - _ . ~ (it is part of the URL "
               "/subscriptions/{id}), got \"a b\"");
  expect_error(error("subscriptions:\n  - id: [a]\n    sink: http://127.0.0.1:9000/\n"), file(), 2,
               "subscriptions[0].id", "must be a non-empty string, got a list");
  expect_error(error("subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9000/\n"
                     "  - id: b\n    sink: http://127.0.0.1:9000/\n"
                     "  - sink: http://127.0.0.1:9000/\n    id: a\n"),
               file(), 7, "subscriptions[2].id",
               "duplicate subscription id 'a' (also used by subscriptions[0])");
}

TEST_F(SubscriptionsConfigTest, ListShapeErrors) {
  expect_error(error("subscriptions:\n  id: a\n"), file(), 2, "subscriptions",
               "must be a list of subscription objects, got a mapping");
  expect_error(error("subscriptions:\n  - just-a-string\n"), file(), 2, "subscriptions[0]",
               "must be a subscription object (a mapping with id, sink, ...)");
  expect_error(
      error("subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9000/\n    sink: http://h/\n"),
      file(), 4, "subscriptions[0].sink", "duplicate key");
}

TEST_F(SubscriptionsConfigTest, CountIsBoundedByMaxSubscriptions) {
  expect_error(error("runtime: {max_subscriptions: 1}\nsubscriptions:\n"
                     "  - {id: a, sink: \"http://h/\"}\n  - {id: b, sink: \"http://h/\"}\n"),
               file(), 3, "subscriptions", "2 subscriptions exceed runtime.max_subscriptions (1)");
}

}  // namespace
}  // namespace evmesh::control
