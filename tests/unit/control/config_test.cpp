// load_config: defaults, daemon settings, every error with its line and key, and the
// shipped config/evmesh.yaml.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config_test_util.h"

namespace evmesh::control {
namespace {

using std::chrono::milliseconds;
using ConfigTest = testing_util::ConfigFiles;

#define EXPECT_CONFIG_ERROR(e, file_, line_, key_, message_)                                       \
  do {                                                                                             \
    EXPECT_EQ((e).file(), (file_));                                                                \
    EXPECT_EQ((e).line(), (line_));                                                                \
    EXPECT_EQ((e).key(), (key_));                                                                  \
    const std::string where_ = std::string(file_) +                                                \
                               ((line_) > 0 ? ":" + std::to_string(line_) : std::string()) +       \
                               ": " + (std::string(key_).empty() ? "" : std::string(key_) + ": "); \
    EXPECT_EQ(std::string((e).what()), where_ + (message_));                                       \
  } while (0)

void expect_defaults(const Config& c) {
  const Config d;
  EXPECT_EQ(c.http.host, d.http.host);
  EXPECT_EQ(c.http.port, d.http.port);
  EXPECT_EQ(c.http.max_event_bytes, d.http.max_event_bytes);
  EXPECT_EQ(c.http.max_batch_bytes, d.http.max_batch_bytes);
  EXPECT_EQ(c.http.max_header_bytes, d.http.max_header_bytes);
  EXPECT_EQ(c.http.header_timeout, d.http.header_timeout);
  EXPECT_EQ(c.http.body_timeout, d.http.body_timeout);
  EXPECT_EQ(c.http.idle_timeout, d.http.idle_timeout);
  EXPECT_EQ(c.http.max_connections, d.http.max_connections);
  EXPECT_EQ(c.http.publish_wait, milliseconds(1000));
  EXPECT_EQ(c.runtime.threads, d.runtime.threads);
  EXPECT_EQ(c.runtime.max_subscriptions, d.runtime.max_subscriptions);
  EXPECT_EQ(c.runtime.drain_timeout, d.runtime.drain_timeout);
  EXPECT_EQ(c.webhook.max_idle_connections_per_sink, d.webhook.max_idle_connections_per_sink);
  EXPECT_EQ(c.webhook.connect_timeout, d.webhook.connect_timeout);
  EXPECT_EQ(c.log.level, d.log.level);
  EXPECT_EQ(c.log.format, d.log.format);
  EXPECT_EQ(c.delivery, d.delivery);
  EXPECT_EQ(c.sink_defaults, d.sink_defaults);
  EXPECT_TRUE(c.subscriptions.empty());
}

TEST_F(ConfigTest, EmptyFileMeansAllDefaults) {
  expect_defaults(load(""));
  expect_defaults(load("# only a comment\n"));
  expect_defaults(load("http:\nruntime:\ndelivery:\nsubscriptions:\n"));
  EXPECT_EQ(load("").file, file());
}

TEST_F(ConfigTest, ShippedConfigLoadsAndMatchesTheBuiltInDefaults) {
  const std::filesystem::path shipped =
      std::filesystem::path(EVMESH_SOURCE_DIR) / "config/evmesh.yaml";
  std::vector<std::string> env;
  auto block = environ_block(env);
  auto config = load_config(shipped, {}, block.data());
  EXPECT_EQ(config.http.host, "127.0.0.1");
  EXPECT_EQ(config.http.port, 8080);
  expect_defaults(config);
}

TEST_F(ConfigTest, ShippedExampleSubscriptionIsValid) {
  std::ifstream in(std::filesystem::path(EVMESH_SOURCE_DIR) / "config/evmesh.yaml");
  std::string yaml, line;
  bool in_example = false;
  while (std::getline(in, line)) {
    if (line == "subscriptions: []") {
      line = "subscriptions:";
      in_example = true;
    } else if (in_example && line.starts_with("#  ")) {
      line.erase(0, 1);  // uncomment
    }
    yaml += line + "\n";
  }
  ASSERT_TRUE(in_example);
  auto c = load(yaml);
  ASSERT_EQ(c.subscriptions.size(), 1u);
  const auto& sub = c.subscriptions[0];
  EXPECT_EQ(sub.id, "orders");
  EXPECT_EQ(sub.source, "/shop");
  EXPECT_EQ(sub.filters.size(), 1u);
  EXPECT_EQ(sub.sink.headers.size(), 1u);
  EXPECT_EQ(sub.delivery.retry.max_attempts, 5u);
  ASSERT_TRUE(sub.delivery.dead_letter);
}

TEST_F(ConfigTest, NestingAndAliasExpansionAreBounded) {
  std::string deep = "subscriptions:\n  - id: a\n    sink: http://h/\n    config: {k: ";
  deep += std::string(70, '[') + std::string(70, ']') + "}\n";
  auto e = error(deep);
  EXPECT_EQ(e.line(), 4);
  EXPECT_TRUE(std::string(e.what()).ends_with(": nested more than 64 levels deep")) << e.what();

  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 7; ++i) {
    auto prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 0; j < 9; ++j) bomb += ", " + prev;
    bomb += "]\n";
  }
  bomb = "subscriptions:\n  - id: a\n    sink: http://h/\n    config:\n" + [&] {
    std::string indented;
    std::istringstream lines(bomb);
    for (std::string l; std::getline(lines, l);) indented += "      " + l + "\n";
    return indented;
  }();
  e = error(bomb);
  EXPECT_TRUE(std::string(e.what()).ends_with("has more than 100000 nodes once aliases are expanded"))
      << e.what();
}

TEST_F(ConfigTest, ReadsEveryKey) {
  auto c = load(R"(
http:
  host: "::1"
  port: 0
  max_event_bytes: 512KiB
  max_batch_bytes: "2 MiB"
  max_header_bytes: 8192
  header_timeout: 1s
  body_timeout: 1500
  idle_timeout: 2m
  max_connections: 10
  publish_wait: 0
runtime:
  threads: 2
  max_subscriptions: 5
  drain_timeout: 0
webhook:
  max_idle_connections_per_sink: 0
  connect_timeout: 250ms
log:
  level: off
  format: json
delivery:
  mode: structured
  maxattempts: 3
  maxage: 1d
  initialbackoff: 1s
  maxbackoff: 10s
  timeout: 3s
  concurrency: 4
  queuecapacity: 100
  deadlettersink: http://127.0.0.1:9001/dlq
)");
  EXPECT_EQ(c.http.host, "::1");
  EXPECT_EQ(c.http.port, 0);
  EXPECT_EQ(c.http.max_event_bytes, 512u << 10);
  EXPECT_EQ(c.http.max_batch_bytes, 2u << 20);
  EXPECT_EQ(c.http.max_header_bytes, 8192u);
  EXPECT_EQ(c.http.header_timeout, milliseconds(1000));
  EXPECT_EQ(c.http.body_timeout, milliseconds(1500));
  EXPECT_EQ(c.http.idle_timeout, milliseconds(120'000));
  EXPECT_EQ(c.http.max_connections, 10u);
  EXPECT_EQ(c.http.publish_wait, milliseconds(0));
  EXPECT_EQ(c.runtime.threads, 2u);
  EXPECT_EQ(c.runtime.max_subscriptions, 5u);
  EXPECT_EQ(c.runtime.drain_timeout, milliseconds(0));
  EXPECT_EQ(c.webhook.max_idle_connections_per_sink, 0u);
  EXPECT_EQ(c.webhook.connect_timeout, milliseconds(250));
  EXPECT_EQ(c.log.level, "off");  // YAML 1.1 would have read a boolean here
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.sink_defaults.mode, DeliveryMode::structured);
  EXPECT_EQ(c.sink_defaults.timeout, milliseconds(3000));
  EXPECT_EQ(c.delivery.retry.max_attempts, 3u);
  EXPECT_EQ(c.delivery.retry.max_age, milliseconds(86'400'000));
  EXPECT_EQ(c.delivery.retry.initial_backoff, milliseconds(1000));
  EXPECT_EQ(c.delivery.retry.max_backoff, milliseconds(10'000));
  EXPECT_EQ(c.delivery.concurrency, 4u);
  EXPECT_EQ(c.delivery.queue_capacity, 100u);
  ASSERT_TRUE(c.delivery.dead_letter);
  EXPECT_EQ(c.delivery.dead_letter->uri, "http://127.0.0.1:9001/dlq");
  EXPECT_EQ(c.delivery.dead_letter->mode, DeliveryMode::structured);
}

TEST_F(ConfigTest, RetentionBytesAndDuplicateSuppression) {
  auto c = load("store:\n  retention_bytes: 10GiB\ndedup:\n  window: 10m\n  max_keys: 500\n");
  EXPECT_EQ(c.store.retention_bytes, 10ull << 30);
  EXPECT_EQ(c.dedup.window, milliseconds(600'000));
  EXPECT_EQ(c.dedup.max_keys, 500u);
  auto defaults = load("");
  EXPECT_EQ(defaults.store.retention_bytes, 0u);  // no cap
  EXPECT_EQ(defaults.dedup.window, milliseconds(0));  // off
  EXPECT_CONFIG_ERROR(error("dedup:\n  max_keys: 0\n"), file(), 2, "dedup.max_keys",
                      "must be an integer between 1 and 100000000, got 0");
  EXPECT_CONFIG_ERROR(error("store:\n  retention_bytes: -1\n"), file(), 2, "store.retention_bytes",
                      "must be a size between 0B and 1048576GiB (bytes, or a string like \"512KiB\", "
                      "\"1MiB\"), got -1");
}

TEST_F(ConfigTest, EmptyDeadLetterSinkMeansNone) {
  EXPECT_FALSE(load("delivery:\n  deadlettersink: \"\"\n").delivery.dead_letter);
  EXPECT_FALSE(load("delivery:\n  deadlettersink: ~\n").delivery.dead_letter);
}

TEST_F(ConfigTest, MissingFileIsAnError) {
  std::vector<std::string> env;
  auto block = environ_block(env);
  try {
    load_config(dir_ / "nope.yaml", {}, block.data());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_CONFIG_ERROR(e, file("nope.yaml"), 0, "",
                        "cannot read the config file: No such file or directory");
  }
  try {
    load_config(dir_, {}, block.data());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_CONFIG_ERROR(e, dir_.string(), 0, "", "cannot read the config file: it is a directory");
  }
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesTheLine) {
  EXPECT_CONFIG_ERROR(error("http:\n  port: 1\n  host: a: b\n"), file(), 3, "",
                      "YAML syntax error: illegal map value");
  EXPECT_CONFIG_ERROR(error("log:\n  level: info\n\tformat: json\n"), file(), 3, "",
                      "YAML syntax error: illegal tab when looking for indentation");
  auto e = error("http:\n  port: 1\n  host: [a,\nlog: {}\n");  // unclosed: found at the end
  EXPECT_EQ(e.line(), 5);
  EXPECT_TRUE(std::string(e.what()).starts_with(file() + ":5: YAML syntax error: ")) << e.what();
}

TEST_F(ConfigTest, StructureErrors) {
  EXPECT_CONFIG_ERROR(error("http: {}\n---\nlog: {}\n"), file(), 3, "",
                      "the file holds more than one YAML document");
  EXPECT_CONFIG_ERROR(error("- a\n- b\n"), file(), 1, "",
                      "the top level must be a mapping of sections (http, grpc, runtime, webhook, log, "
                      "delivery, subscriptions)");
  EXPECT_CONFIG_ERROR(
      error("http: {}\nhtp:\n  port: 1\n"), file(), 2, "htp",
      "unknown section (known: http, grpc, runtime, webhook, store, log, mqtt, delivery, "
      "subscriptions, mqtt_bridges, auth, acl, admin, policy, encryption, schemas, reload)");
  EXPECT_CONFIG_ERROR(
      error("http:\n  host: a\n  prot: 1\n"), file(), 3, "http.prot",
      "unknown key (http keys: host, port, max_event_bytes, max_batch_bytes, "
      "max_header_bytes, header_timeout, body_timeout, idle_timeout, max_connections, publish_wait, tls)");
  EXPECT_CONFIG_ERROR(error("http:\n  port: 1\n  port: 2\n"), file(), 3, "http.port",
                      "duplicate key");
  EXPECT_CONFIG_ERROR(error("log: {}\nlog: {}\n"), file(), 2, "log", "duplicate key");
  EXPECT_CONFIG_ERROR(error("http: 5\n"), file(), 1, "http", "must be a mapping, got 5");
  EXPECT_CONFIG_ERROR(error("runtime: [1]\n"), file(), 1, "runtime",
                      "must be a mapping, got a list");
  EXPECT_CONFIG_ERROR(error("http:\n  [a]: 1\n"), file(), 2, "http",
                      "keys must be plain strings, got a list");
  EXPECT_CONFIG_ERROR(error("http:\n  port:\n  host: a\n"), file(), 2, "http.port",
                      "has no value; give one or remove the key to use the default");
}

TEST_F(ConfigTest, ValueErrors) {
  const std::string port = "must be an integer between 0 and 65535, ";
  EXPECT_CONFIG_ERROR(error("http:\n  host: a\n  port: eighty\n"), file(), 3, "http.port",
                      port + "got \"eighty\"");
  EXPECT_CONFIG_ERROR(error("http:\n  port: 70000\n"), file(), 2, "http.port", port + "got 70000");
  EXPECT_CONFIG_ERROR(error("http:\n  port: -1\n"), file(), 2, "http.port", port + "got -1");
  EXPECT_CONFIG_ERROR(error("http:\n  port: 80.5\n"), file(), 2, "http.port", port + "got 80.5");
  EXPECT_CONFIG_ERROR(error("http:\n  port: \"8080\"\n"), file(), 2, "http.port",
                      port + "got \"8080\"");
  EXPECT_CONFIG_ERROR(error("http:\n  port: [1]\n"), file(), 2, "http.port", port + "got a list");
  EXPECT_CONFIG_ERROR(error("http:\n  host: \"\"\n"), file(), 2, "http.host",
                      "must be a non-empty string, got \"\"");
  EXPECT_CONFIG_ERROR(error("http:\n  max_event_bytes: 1XB\n"), file(), 2, "http.max_event_bytes",
                      "must be a size between 1B and 1GiB (bytes, or a string like \"512KiB\", "
                      "\"1MiB\"), got \"1XB\"");
  EXPECT_CONFIG_ERROR(
      error("http:\n  max_event_bytes: 0\n"), file(), 2, "http.max_event_bytes",
      "must be a size between 1B and 1GiB (bytes, or a string like \"512KiB\", \"1MiB\"), got 0");
  EXPECT_CONFIG_ERROR(error("http:\n  max_header_bytes: 100\n"), file(), 2, "http.max_header_bytes",
                      "must be a size between 1KiB and 1MiB (bytes, or a string like \"512KiB\", "
                      "\"1MiB\"), got 100");
  const std::string positive =
      "must be a duration greater than zero and at most 3650d (milliseconds, or a "
      "string like \"250ms\", \"10s\", \"5m\", \"2h\", \"1d\"), ";
  EXPECT_CONFIG_ERROR(error("http:\n  header_timeout: 0\n"), file(), 2, "http.header_timeout",
                      positive + "got 0");
  EXPECT_CONFIG_ERROR(error("http:\n  body_timeout: \"10\"\n"), file(), 2, "http.body_timeout",
                      positive + "got \"10\"");
  EXPECT_CONFIG_ERROR(error("webhook:\n  connect_timeout: soon\n"), file(), 2,
                      "webhook.connect_timeout", positive + "got \"soon\"");
  EXPECT_CONFIG_ERROR(
      error("runtime:\n  drain_timeout: -1s\n"), file(), 2, "runtime.drain_timeout",
      "must be a duration of at least zero and at most 3650d (milliseconds, or a string like "
      "\"250ms\", \"10s\", \"5m\", \"2h\", \"1d\"), got \"-1s\"");
  EXPECT_CONFIG_ERROR(error("runtime:\n  threads: 5000\n"), file(), 2, "runtime.threads",
                      "must be an integer between 0 and 1024, got 5000");
  EXPECT_CONFIG_ERROR(error("runtime:\n  max_subscriptions: 0\n"), file(), 2,
                      "runtime.max_subscriptions",
                      "must be an integer between 1 and 10000000, got 0");
  EXPECT_CONFIG_ERROR(error("http:\n  max_connections: 0\n"), file(), 2, "http.max_connections",
                      "must be an integer between 1 and 1000000, got 0");
  EXPECT_CONFIG_ERROR(error("http:\n  publish_wait: soon\n"), file(), 2, "http.publish_wait",
                      "must be a duration of at least zero and at most 3650d (milliseconds, or a string "
                      "like \"250ms\", \"10s\", \"5m\", \"2h\", \"1d\"), got \"soon\"");
  EXPECT_CONFIG_ERROR(error("webhook:\n  max_idle_connections_per_sink: 2000\n"), file(), 2,
                      "webhook.max_idle_connections_per_sink",
                      "must be an integer between 0 and 1024, got 2000");
  EXPECT_CONFIG_ERROR(error("log:\n  level: verbose\n"), file(), 2, "log.level",
                      "must be one of trace, debug, info, warn, error, off, got \"verbose\"");
  EXPECT_CONFIG_ERROR(error("log:\n  format: xml\n"), file(), 2, "log.format",
                      "must be one of plain, json, got \"xml\"");
}

TEST_F(ConfigTest, BatchLimitMustHoldTheLargestEvent) {
  EXPECT_CONFIG_ERROR(
      error("http:\n  max_event_bytes: 1MiB\n  max_batch_bytes: 512KiB\n"), file(), 3,
      "http.max_batch_bytes",
      "max_batch_bytes (512KiB) must be at least max_event_bytes (1MiB): a batch may hold "
      "one event of the largest size");
  EXPECT_CONFIG_ERROR(
      error("http:\n  max_event_bytes: 8MiB\n"), file(), 2, "http.max_event_bytes",
      "max_batch_bytes (4MiB) must be at least max_event_bytes (8MiB): a batch may hold "
      "one event of the largest size");
}

TEST_F(ConfigTest, DeliveryDefaultErrorsNameTheirLine) {
  EXPECT_CONFIG_ERROR(error("delivery:\n  mode: binary\n  maxattempts: 0\n"), file(), 3,
                      "delivery.maxattempts", "must be an integer between 1 and 4294967295, got 0");
  EXPECT_CONFIG_ERROR(
      error("delivery:\n  retries: 3\n"), file(), 2, "delivery.retries",
      "unknown property \"retries\" (known: mode, maxattempts, maxage, initialbackoff, "
      "maxbackoff, timeout, concurrency, queuecapacity, deadlettersink)");
  EXPECT_CONFIG_ERROR(error("delivery:\n  initialbackoff: 5m\n"), file(), 2,
                      "delivery.initialbackoff",
                      "initialbackoff (5m) must not be longer than maxbackoff (1m)");
  EXPECT_CONFIG_ERROR(error("delivery: [1]\n"), file(), 1, "delivery",
                      "must be an object, got an array");
  EXPECT_CONFIG_ERROR(error("delivery:\n  mode: \"structured\"\n  deadlettersink: nowhere\n"),
                      file(), 3, "delivery.deadlettersink",
                      "must be an absolute URI such as \"http://127.0.0.1:9001/dlq\", or null for "
                      "none, got \"nowhere\"");
}

}  // namespace
}  // namespace evmesh::control
