// parse_subscription / to_json: the Subscriptions API object with our `delivery`.
#include "evmesh/control/subscription_spec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace evmesh::control {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kSink = "http://127.0.0.1:9000/hook";

Subscription parse_ok(const json& body, const DeliveryPolicy& defaults = {},
                      const SinkSpec& sink_defaults = {}) {
  auto sub = parse_subscription(body, defaults, sink_defaults);
  EXPECT_TRUE(sub.has_value()) << body.dump() << " -> " << (sub ? "" : sub.error().message);
  return sub ? *sub : Subscription{};
}

Error parse_error(const json& body, const DeliveryPolicy& defaults = {}) {
  auto sub = parse_subscription(body, defaults, {});
  EXPECT_FALSE(sub.has_value()) << body.dump();
  if (sub) return {};
  EXPECT_EQ(sub.error().code, Errc::invalid_subscription);
  return sub.error();
}

json with_sink(json extra) {
  extra["sink"] = kSink;
  return extra;
}

TEST(ParseSubscription, MinimalBodyTakesEveryDefault) {
  auto sub = parse_ok({{"sink", kSink}});
  EXPECT_EQ(sub.id, "");
  EXPECT_EQ(sub.source, std::nullopt);
  EXPECT_TRUE(sub.types.empty());
  EXPECT_EQ(sub.config, json::object());
  EXPECT_TRUE(sub.filters.empty());
  EXPECT_EQ(sub.sink.uri, kSink);
  EXPECT_EQ(sub.sink.protocol, "HTTP");  // inferred from http://
  EXPECT_EQ(sub.sink.method, "POST");
  EXPECT_TRUE(sub.sink.headers.empty());
  EXPECT_EQ(sub.sink.mode, DeliveryMode::binary);
  EXPECT_EQ(sub.sink.timeout, milliseconds(10'000));
  EXPECT_EQ(sub.delivery, DeliveryPolicy{});
  EXPECT_FALSE(sub.declared_in_config);
}

TEST(ParseSubscription, HttpsSinkAlsoInfersHttp) {
  EXPECT_EQ(parse_ok({{"sink", "HTTPS://example.com/x"}}).sink.protocol, "HTTP");
}

// MQTT sinks go to a bridge; their topic may be a template (docs/mqtt-bridges.md).
TEST(ParseSubscription, MqttSinkMayBeATopicTemplate) {
  auto sub = parse_ok({{"sink", "mqtt://plant/orders/{type}"}, {"protocol", "MQTT"}});
  EXPECT_EQ(sub.sink.protocol, "MQTT");
  EXPECT_EQ(sub.sink.uri, "mqtt://plant/orders/{type}");
  auto e = parse_error({{"sink", "http://h/{type}"}, {"protocol", "HTTP"}});
  EXPECT_EQ(e.pointer, "sink");
  EXPECT_EQ(parse_error({{"sink", "mqtt://plant/t"}}).pointer, "protocol");
}

TEST(ParseSubscription, ReadsEveryProperty) {
  auto sub = parse_ok(json::parse(R"({
    "id": "orders", "source": "/shop", "types": ["a.created", "a.deleted"],
    "config": {"interval": 5, "nested": {"x": [1, 2]}},
    "filters": [{"prefix": {"type": "a."}}],
    "sink": "http://127.0.0.1:9000/hook", "protocol": "HTTP",
    "protocolsettings": {"method": "PUT", "headers": {"x-api-key": "k", "Authorization": "Bearer t"}},
    "delivery": {"mode": "structured", "maxattempts": 3, "maxage": "2h", "initialbackoff": 50,
                 "maxbackoff": "5s", "timeout": "2500ms", "concurrency": 8, "queuecapacity": 99,
                 "deadlettersink": "http://127.0.0.1:9001/dlq"}})"));
  EXPECT_EQ(sub.id, "orders");
  EXPECT_EQ(sub.source, "/shop");
  EXPECT_EQ(sub.types, (std::vector<std::string>{"a.created", "a.deleted"}));
  EXPECT_EQ(sub.config["nested"]["x"][1], 2);
  ASSERT_EQ(sub.filters.size(), 1u);
  EXPECT_EQ(sub.filters[0]->dialect, filter::Dialect::prefix);
  EXPECT_EQ(sub.sink.method, "PUT");
  EXPECT_EQ(sub.sink.headers, (std::vector<std::pair<std::string, std::string>>{
                                  {"Authorization", "Bearer t"}, {"x-api-key", "k"}}));
  EXPECT_EQ(sub.sink.mode, DeliveryMode::structured);
  EXPECT_EQ(sub.sink.timeout, milliseconds(2500));
  EXPECT_EQ(sub.delivery.retry.max_attempts, 3u);
  EXPECT_EQ(sub.delivery.retry.max_age, milliseconds(7'200'000));
  EXPECT_EQ(sub.delivery.retry.initial_backoff, milliseconds(50));
  EXPECT_EQ(sub.delivery.retry.max_backoff, milliseconds(5000));
  EXPECT_EQ(sub.delivery.concurrency, 8u);
  EXPECT_EQ(sub.delivery.queue_capacity, 99u);
  ASSERT_TRUE(sub.delivery.dead_letter);
  EXPECT_EQ(sub.delivery.dead_letter->uri, "http://127.0.0.1:9001/dlq");
  // The dead-letter sink follows the subscription's mode and timeout, plain POST.
  EXPECT_EQ(sub.delivery.dead_letter->mode, DeliveryMode::structured);
  EXPECT_EQ(sub.delivery.dead_letter->timeout, milliseconds(2500));
  EXPECT_EQ(sub.delivery.dead_letter->method, "POST");
  EXPECT_TRUE(sub.delivery.dead_letter->headers.empty());
}

TEST(ParseSubscription, AbsentPropertiesTakeTheGivenDefaults) {
  DeliveryPolicy defaults;
  defaults.retry.max_attempts = 4;
  defaults.concurrency = 2;
  defaults.dead_letter = SinkSpec{.uri = "http://127.0.0.1:9001/dlq"};
  SinkSpec sink_defaults;
  sink_defaults.mode = DeliveryMode::structured;
  sink_defaults.timeout = milliseconds(1234);
  auto sub = parse_ok(with_sink({{"delivery", {{"maxattempts", 7}, {"timeout", "3s"}}}}), defaults,
                      sink_defaults);
  EXPECT_EQ(sub.delivery.retry.max_attempts, 7u);
  EXPECT_EQ(sub.delivery.concurrency, 2u);
  EXPECT_EQ(sub.sink.mode, DeliveryMode::structured);
  EXPECT_EQ(sub.sink.timeout, milliseconds(3000));
  ASSERT_TRUE(sub.delivery.dead_letter);
  EXPECT_EQ(sub.delivery.dead_letter->uri, "http://127.0.0.1:9001/dlq");
  EXPECT_EQ(sub.delivery.dead_letter->timeout, milliseconds(3000));  // rebuilt for this sub
  EXPECT_EQ(sub.delivery.dead_letter->mode, DeliveryMode::structured);
}

TEST(ParseSubscription, NullOrEmptyDeadLetterSinkDisablesTheDefault) {
  DeliveryPolicy defaults;
  defaults.dead_letter = SinkSpec{.uri = "http://127.0.0.1:9001/dlq"};
  EXPECT_FALSE(parse_ok(with_sink({{"delivery", {{"deadlettersink", nullptr}}}}), defaults)
                   .delivery.dead_letter);
  EXPECT_FALSE(
      parse_ok(with_sink({{"delivery", {{"deadlettersink", ""}}}}), defaults).delivery.dead_letter);
}

TEST(ParseSubscription, ToJsonEmitsEveryEffectiveValue) {
  auto sub = parse_ok({{"id", "a"}, {"sink", kSink}});
  EXPECT_EQ(to_json(sub), json::parse(R"({
    "id": "a", "config": {}, "filters": [], "sink": "http://127.0.0.1:9000/hook",
    "protocol": "HTTP", "protocolsettings": {"method": "POST", "headers": {}}, "durable": false,
    "delivery": {"mode": "binary", "maxattempts": 10, "maxage": "1h", "initialbackoff": "200ms",
                 "maxbackoff": "1m", "timeout": "10s", "concurrency": 1, "queuecapacity": 10000,
                 "deadlettersink": null}})"));
}

TEST(ParseSubscription, RoundTripsThroughToJson) {
  const auto body = json::parse(R"({
    "id": "rt", "source": "/s", "types": ["t1", "t2"], "config": {"k": "v"},
    "filters": [{"any": [{"exact": {"subject": "x"}}, {"not": {"suffix": {"type": ".tmp"}}}]}],
    "sink": "http://127.0.0.1:9000/hook", "protocolsettings": {"headers": {"x-a": "1"}},
    "delivery": {"mode": "structured", "maxattempts": 2, "maxage": 90000, "concurrency": 3,
                 "deadlettersink": "http://127.0.0.1:9001/dlq"}, "durable": true})");
  DeliveryPolicy defaults;
  defaults.dead_letter = SinkSpec{.uri = "http://127.0.0.1:9999/other"};
  auto first = parse_ok(body, defaults);
  EXPECT_TRUE(first.durable);
  auto emitted = to_json(first);
  auto second = parse_ok(emitted, defaults);
  EXPECT_EQ(to_json(second), emitted);
  EXPECT_EQ(second.sink, first.sink);
  EXPECT_EQ(second.delivery, first.delivery);
  EXPECT_EQ(second.source, first.source);
  EXPECT_EQ(second.types, first.types);
  EXPECT_EQ(second.config, first.config);
  EXPECT_TRUE(second.durable);
  EXPECT_EQ(emitted["delivery"]["maxage"], "90s");

  // No dead letter round-trips as null even when the defaults have one.
  auto none = parse_ok(with_sink({{"delivery", {{"deadlettersink", nullptr}}}}), defaults);
  EXPECT_FALSE(parse_ok(to_json(none), defaults).delivery.dead_letter);
}

struct ErrorCase {
  json body;
  std::string pointer;
  std::string message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.body.dump(); }

class ParseSubscriptionError : public testing::TestWithParam<ErrorCase> {};

TEST_P(ParseSubscriptionError, NamesPointerAndReason) {
  const auto& c = GetParam();
  auto err = parse_error(c.body);
  EXPECT_EQ(err.pointer, c.pointer);
  EXPECT_EQ(err.message, c.message);
}

const std::string kKnown =
    " (known: id, source, types, config, filters, sink, protocol, protocolsettings, delivery, durable, replay)";
const std::string kDurationRule =
    "must be a duration greater than zero and at most 3650d (milliseconds, or a string like "
    "\"250ms\", \"10s\", \"5m\", \"2h\", \"1d\"), ";
const std::string kSinkRule = "must be an absolute URI such as \"http://127.0.0.1:9000/hook\", ";

json delivery(json d) { return with_sink({{"delivery", std::move(d)}}); }
json settings(json s) { return with_sink({{"protocolsettings", std::move(s)}}); }

INSTANTIATE_TEST_SUITE_P(
    TopLevel, ParseSubscriptionError,
    testing::Values(
        ErrorCase{json::array(), "", "a subscription must be a JSON object, got an array"},
        ErrorCase{with_sink({{"sinc", 1}}), "sinc", "sinc: unknown property \"sinc\"" + kKnown},
        ErrorCase{with_sink({{"a.b", 1}}), "", "unknown property \"a.b\"" + kKnown},
        ErrorCase{with_sink({{"sinkCredential", json::object()}}), "sinkCredential",
                  "sinkCredential: unknown property \"sinkCredential\" (sink credentials are not "
                  "supported yet)"},
        ErrorCase{with_sink({{"id", 5}}), "id", "id: must be a string, got 5"},
        ErrorCase{with_sink({{"durable", "yes"}}), "durable",
                  "durable: must be true or false, got \"yes\""},
        ErrorCase{with_sink({{"source", ""}}), "source",
                  "source: must be a non-empty URI-reference without spaces or control characters, "
                  "such as \"/shop/orders\", got \"\""},
        ErrorCase{with_sink({{"source", "a b"}}), "source",
                  "source: must be a non-empty URI-reference without spaces or control characters, "
                  "such as \"/shop/orders\", got \"a b\""},
        ErrorCase{with_sink({{"types", "t"}}), "types",
                  "types: must be an array of event types, got \"t\""},
        ErrorCase{with_sink({{"types", json::array()}}), "types",
                  "types: must list at least one type (leave it out to accept every type)"},
        ErrorCase{with_sink({{"types", {"a", ""}}}), "types[1]",
                  "types[1]: must be a non-empty string, got \"\""},
        ErrorCase{with_sink({{"config", json::array()}}), "config",
                  "config: must be an object, got an array"},
        ErrorCase{with_sink({{"config", {{"", 1}}}}), "config",
                  "config: keys must be non-empty strings"},
        ErrorCase{json::object(), "sink",
                  "sink: is required: the URI events are delivered to, such as "
                  "\"http://127.0.0.1:9000/hook\""},
        ErrorCase{{{"sink", 5}}, "sink", "sink: " + kSinkRule + "got 5"},
        ErrorCase{{{"sink", "/relative"}}, "sink", "sink: " + kSinkRule + "got \"/relative\""},
        ErrorCase{{{"sink", std::string(100, 'x')}},
                  "sink",
                  "sink: " + kSinkRule + "got \"" + std::string(64, 'x') + "...\""}));

INSTANTIATE_TEST_SUITE_P(
    Protocol, ParseSubscriptionError,
    testing::Values(
        ErrorCase{{{"sink", "mqtt://127.0.0.1/t"}},
                  "protocol",
                  "protocol: is required (it may be left out only for http:// and https:// sinks)"},
        ErrorCase{with_sink({{"protocol", "MQTT5"}}), "protocol",
                  "protocol: protocol 'MQTT5' is not supported yet (supported: HTTP, GRPC, MQTT)"},
        ErrorCase{with_sink({{"protocol", "MQTT"}}), "sink",
                  "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\", got \"http://127.0.0.1:9000/hook\""},
        ErrorCase{with_sink({{"protocol", "http"}}), "protocol",
                  "protocol: protocol names are case-sensitive: use \"HTTP\", got \"http\""},
        ErrorCase{with_sink({{"protocol", "CARRIER-PIGEON"}}), "protocol",
                  "protocol: unknown protocol \"CARRIER-PIGEON\" (supported: HTTP, GRPC, MQTT)"},
        ErrorCase{with_sink({{"protocol", ""}}), "protocol",
                  "protocol: must be a non-empty string such as \"HTTP\", got \"\""},
        ErrorCase{settings(json::array()), "protocolsettings",
                  "protocolsettings: must be an object, got an array"},
        ErrorCase{settings({{"method", "GET"}}), "protocolsettings.method",
                  "protocolsettings.method: must be \"POST\" or \"PUT\", got \"GET\""},
        ErrorCase{
            settings({{"qos", 1}}), "protocolsettings.qos",
            "protocolsettings.qos: unknown HTTP protocol setting \"qos\" (known: method, headers)"},
        ErrorCase{settings({{"headers", "x"}}), "protocolsettings.headers",
                  "protocolsettings.headers: must be an object of header names to string values, "
                  "got \"x\""},
        ErrorCase{settings({{"headers", {{"bad name", "v"}}}}), "protocolsettings.headers",
                  "protocolsettings.headers: \"bad name\" is not a valid HTTP header name"},
        ErrorCase{
            settings({{"headers", {{"Content-Type", "v"}}}}),
            "protocolsettings.headers.Content-Type",
            "protocolsettings.headers.Content-Type: header 'Content-Type' is set by the broker "
            "and cannot be configured"},
        ErrorCase{settings({{"headers", {{"ce-id", "v"}}}}), "protocolsettings.headers.ce-id",
                  "protocolsettings.headers.ce-id: header 'ce-id' is set by the broker and cannot "
                  "be configured"},
        ErrorCase{settings({{"headers", {{"x-a", 1}}}}), "protocolsettings.headers.x-a",
                  "protocolsettings.headers.x-a: must be a string, got 1"},
        ErrorCase{settings({{"headers", {{"x-a", "a\r\nb"}}}}), "protocolsettings.headers.x-a",
                  "protocolsettings.headers.x-a: contains a control character (CR, LF, NUL, ...)"},
        ErrorCase{settings({{"headers", {{"X-A", "1"}, {"x-a", "2"}}}}),
                  "protocolsettings.headers.x-a",
                  "protocolsettings.headers.x-a: duplicates header 'X-A'"}));

INSTANTIATE_TEST_SUITE_P(
    Delivery, ParseSubscriptionError,
    testing::Values(
        ErrorCase{delivery(nullptr), "delivery", "delivery: must be an object, got null"},
        ErrorCase{delivery(json::array()), "delivery", "delivery: must be an object, got an array"},
        ErrorCase{
            delivery({{"retries", 1}}), "delivery.retries",
            "delivery.retries: unknown property \"retries\" (known: mode, maxattempts, maxage, "
            "initialbackoff, maxbackoff, timeout, concurrency, queuecapacity, deadlettersink)"},
        ErrorCase{delivery({{"mode", "json"}}), "delivery.mode",
                  "delivery.mode: must be \"binary\" or \"structured\", got \"json\""},
        ErrorCase{delivery({{"maxattempts", 0}}), "delivery.maxattempts",
                  "delivery.maxattempts: must be an integer between 1 and 4294967295, got 0"},
        ErrorCase{delivery({{"maxattempts", "10"}}), "delivery.maxattempts",
                  "delivery.maxattempts: must be an integer between 1 and 4294967295, got \"10\""},
        ErrorCase{delivery({{"maxattempts", 1.5}}), "delivery.maxattempts",
                  "delivery.maxattempts: must be an integer between 1 and 4294967295, got 1.5"},
        ErrorCase{
            delivery({{"maxattempts", 4294967296LL}}), "delivery.maxattempts",
            "delivery.maxattempts: must be an integer between 1 and 4294967295, got 4294967296"},
        ErrorCase{delivery({{"concurrency", 1025}}), "delivery.concurrency",
                  "delivery.concurrency: must be an integer between 1 and 1024, got 1025"},
        ErrorCase{delivery({{"queuecapacity", 0}}), "delivery.queuecapacity",
                  "delivery.queuecapacity: must be an integer between 1 and 10000000, got 0"},
        ErrorCase{
            delivery({{"queuecapacity", 10'000'001}}), "delivery.queuecapacity",
            "delivery.queuecapacity: must be an integer between 1 and 10000000, got 10000001"},
        ErrorCase{delivery({{"maxage", "0s"}}), "delivery.maxage",
                  "delivery.maxage: " + kDurationRule + "got \"0s\""},
        ErrorCase{delivery({{"timeout", "10"}}), "delivery.timeout",
                  "delivery.timeout: " + kDurationRule + "got \"10\""},
        ErrorCase{delivery({{"timeout", -5}}), "delivery.timeout",
                  "delivery.timeout: " + kDurationRule + "got -5"},
        ErrorCase{
            delivery({{"initialbackoff", "2m"}}), "delivery.initialbackoff",
            "delivery.initialbackoff: initialbackoff (2m) must not be longer than maxbackoff (1m)"},
        ErrorCase{delivery({{"maxbackoff", "100ms"}}), "delivery.maxbackoff",
                  "delivery.maxbackoff: initialbackoff (200ms) must not be longer than maxbackoff "
                  "(100ms)"},
        ErrorCase{delivery({{"deadlettersink", 5}}), "delivery.deadlettersink",
                  "delivery.deadlettersink: must be an absolute URI such as "
                  "\"http://127.0.0.1:9001/dlq\", "
                  "or null for none, got 5"},
        ErrorCase{delivery({{"deadlettersink", "dlq"}}), "delivery.deadlettersink",
                  "delivery.deadlettersink: must be an absolute URI such as "
                  "\"http://127.0.0.1:9001/dlq\", "
                  "or null for none, got \"dlq\""}));

TEST(ParseSubscription, FilterErrorsKeepTheFilterModulePointer) {
  auto err = parse_error(with_sink({{"filters", json::parse(R"([{"exact": {"type": 5}}])")}}));
  EXPECT_TRUE(err.pointer.starts_with("filters[0].exact")) << err.pointer;
  EXPECT_TRUE(err.message.starts_with(err.pointer + ": ")) << err.message;
  EXPECT_EQ(parse_error(with_sink({{"filters", {{"exact", 1}}}})).pointer.substr(0, 7), "filters");
}

TEST(EffectiveFilters, AddsSourceAndTypes) {
  Subscription sub;
  EXPECT_TRUE(sub.effective_filters().empty());

  sub.filters = {filter::prefix("subject", "eu/")};
  sub.source = "/shop";
  sub.types = {"a"};
  auto one = sub.effective_filters();
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(filter::to_json(one), json::parse(R"([{"prefix": {"subject": "eu/"}},
      {"exact": {"source": "/shop"}}, {"exact": {"type": "a"}}])"));

  sub.types = {"a", "b"};
  EXPECT_EQ(filter::to_json(sub.effective_filters()),
            json::parse(R"([{"prefix": {"subject": "eu/"}},
      {"exact": {"source": "/shop"}}, {"any": [{"exact": {"type": "a"}}, {"exact": {"type": "b"}}]}])"));
}

}  // namespace
}  // namespace evmesh::control
