// --set and EVMESH_* overrides: parsing, precedence, and errors naming the flag or
// variable.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace evmesh::control {
namespace {

using std::chrono::milliseconds;
using OverrideTest = testing_util::ConfigFiles;

void expect_error(const ConfigError& e, const std::string& origin, const std::string& key,
                  const std::string& message) {
  EXPECT_EQ(e.file(), origin);
  EXPECT_EQ(e.line(), 0);
  EXPECT_EQ(e.key(), key);
  EXPECT_EQ(std::string(e.what()), origin + ": " + key + ": " + message);
}

TEST_F(OverrideTest, CommandLineSetsAKey) {
  auto c = load("http:\n  port: 8081\n", {{"http.port", "0"}, {"log.level", "debug"}});
  EXPECT_EQ(c.http.port, 0);
  EXPECT_EQ(c.log.level, "debug");
}

TEST_F(OverrideTest, EnvironmentSetsAKey) {
  auto c = load("", {},
                {"EVMESH_LOG__LEVEL=debug", "EVMESH_HTTP__MAX_EVENT_BYTES=2MiB",
                 "EVMESH_DELIVERY__MAXATTEMPTS=3", "EVMESH_HTTP__HOST=0.0.0.0"});
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.http.max_event_bytes, 2u << 20);
  EXPECT_EQ(c.delivery.retry.max_attempts, 3u);
  EXPECT_EQ(c.http.host, "0.0.0.0");
}

TEST_F(OverrideTest, PrecedenceIsCommandLineThenEnvironmentThenFileThenDefault) {
  const std::string yaml = "http:\n  port: 8081\n  host: 10.0.0.1\n";
  std::vector<std::string> env = {"EVMESH_HTTP__PORT=8082", "EVMESH_LOG__FORMAT=json"};
  auto c = load(yaml, {{"http.port", "8083"}}, env);
  EXPECT_EQ(c.http.port, 8083);        // cli over env over file
  EXPECT_EQ(c.log.format, "json");     // env over default
  EXPECT_EQ(c.http.host, "10.0.0.1");  // file over default
  EXPECT_EQ(c.log.level, "info");      // default
  EXPECT_EQ(load(yaml, {}, env).http.port, 8082);
  EXPECT_EQ(load(yaml).http.port, 8081);
  // The last --set of a key wins.
  EXPECT_EQ(load(yaml, {{"http.port", "1"}, {"http.port", "2"}}).http.port, 2);
}

TEST_F(OverrideTest, OtherVariablesAreIgnored) {
  auto c = load("", {},
                {"PATH=/usr/bin", "EVMESH_SOURCE_DIR=/src", "EVMESHD=/bin/evmeshd", "HTTP__PORT=1",
                 "NOEQUALS"});
  EXPECT_EQ(c.http.port, 8080);
}

TEST_F(OverrideTest, ValuesAreYaml) {
  auto c = load(
      "",
      {{"http.max_batch_bytes", "\"8 MiB\""},
       {"delivery.deadlettersink", "http://127.0.0.1:9001/dlq"},
       {"delivery.timeout", "2500"},
       {"subscriptions",
        R"([{id: a, sink: "http://127.0.0.1:9000/"}, {id: b, sink: "http://127.0.0.1:9000/b", types: [x]}])"}});
  EXPECT_EQ(c.http.max_batch_bytes, 8u << 20);
  ASSERT_TRUE(c.delivery.dead_letter);
  EXPECT_EQ(c.sink_defaults.timeout, milliseconds(2500));
  ASSERT_EQ(c.subscriptions.size(), 2u);
  EXPECT_EQ(c.subscriptions[1].id, "b");
  EXPECT_EQ(c.subscriptions[1].types, std::vector<std::string>{"x"});
  EXPECT_EQ(c.subscriptions[1].sink.timeout,
            milliseconds(2500));  // defaults applied after overrides
  EXPECT_TRUE(c.subscriptions[0].declared_in_config);
}

TEST_F(OverrideTest, SubscriptionsOverrideReplacesTheFileList) {
  const std::string yaml = "subscriptions:\n  - id: file\n    sink: http://127.0.0.1:9000/\n";
  auto c = load(yaml, {}, {"EVMESH_SUBSCRIPTIONS=[]"});
  EXPECT_TRUE(c.subscriptions.empty());
  EXPECT_EQ(load(yaml).subscriptions.size(), 1u);
}

TEST_F(OverrideTest, AppliesToSectionsWrittenEmptyOrAbsent) {
  EXPECT_EQ(
      load("http:\nlog: {format: json}\n", {{"http.port", "1"}, {"log.level", "warn"}}).http.port,
      1);
  auto c = load("log: {format: json}\n", {{"log.level", "warn"}});
  EXPECT_EQ(c.log.level, "warn");
  EXPECT_EQ(c.log.format, "json");
}

TEST_F(OverrideTest, UnknownKeysNameTheFlagOrVariable) {
  expect_error(
      error("", {{"http.prot", "1"}}), "--set", "http.prot",
      "unknown key (http keys: host, port, max_event_bytes, max_batch_bytes, max_header_bytes, "
      "header_timeout, body_timeout, idle_timeout, max_connections, publish_wait, tls)");
  expect_error(error("", {}, {"EVMESH_LOG__LEVL=debug"}), "EVMESH_LOG__LEVL", "log.levl",
               "unknown key (log keys: level, format)");
  expect_error(error("", {{"htp.port", "1"}}), "--set", "htp.port",
               "unknown key (sections: http, grpc, runtime, webhook, store, log, mqtt, auth, admin, "
               "encryption, schemas, reload, dedup, delivery, subscriptions, mqtt_bridges, acl, policy)");
  expect_error(
      error("", {}, {"EVMESH_HTTP_PORT=1"}), "EVMESH_HTTP_PORT", "http_port",
      "unknown key (sections: http, grpc, runtime, webhook, store, log, mqtt, auth, admin, "
      "encryption, schemas, reload, dedup, delivery, subscriptions, mqtt_bridges, acl, policy); separate "
      "the parts of a key with \"__\", e.g. EVMESH_HTTP__PORT");
  expect_error(
      error("", {}, {"EVMESH_LOG=debug"}), "EVMESH_LOG", "log",
      "'log' is a section: set one of its keys (level, format), e.g. EVMESH_LOG__LEVEL=...");
  expect_error(
      error("", {{"http", "{port: 1}"}}), "--set", "http",
      "'http' is a section: set one of its keys (host, port, max_event_bytes, max_batch_bytes, "
      "max_header_bytes, header_timeout, body_timeout, idle_timeout, max_connections, publish_wait, tls), e.g. "
      "--set http.host=...");
  expect_error(
      error("", {{"subscriptions.0.sink", "x"}}), "--set", "subscriptions.0.sink",
      "'subscriptions' can only be replaced as a whole, e.g. --set subscriptions='[{id: a, "
      "sink: \"http://127.0.0.1:9000/\"}]'");
  expect_error(
      error("", {{"http.port.x", "1"}}), "--set", "http.port.x",
      "unknown key (http keys: host, port, max_event_bytes, max_batch_bytes, max_header_bytes, "
      "header_timeout, body_timeout, idle_timeout, max_connections, publish_wait, tls)");
}

TEST_F(OverrideTest, BadValuesNameTheFlagOrVariable) {
  expect_error(error("http:\n  port: 1\n", {{"http.port", "eighty"}}), "--set", "http.port",
               "must be an integer between 0 and 65535, got \"eighty\"");
  expect_error(error("", {}, {"EVMESH_LOG__LEVEL=loud"}), "EVMESH_LOG__LEVEL", "log.level",
               "must be one of trace, debug, info, warn, error, off, got \"loud\"");
  expect_error(error("", {{"http.port", ""}}), "--set", "http.port",
               "has no value; give one or remove the key to use the default");
  expect_error(error("", {{"delivery.maxattempts", "0"}}), "--set", "delivery.maxattempts",
               "must be an integer between 1 and 4294967295, got 0");
  expect_error(
      error("", {{"subscriptions", "[{id: a}]"}}), "--set", "subscriptions[0].sink",
      "is required: the URI events are delivered to, such as \"http://127.0.0.1:9000/hook\"");
  expect_error(error("", {}, {"EVMESH_SUBSCRIPTIONS=5"}), "EVMESH_SUBSCRIPTIONS", "subscriptions",
               "must be a list of subscription objects, got a scalar");
  auto e = error("", {{"log.level", "[debug"}});
  EXPECT_EQ(e.file(), "--set");
  EXPECT_EQ(e.key(), "log.level");
  EXPECT_TRUE(std::string(e.what()).starts_with("--set: log.level: the value is not valid YAML: "))
      << e.what();
}

TEST_F(OverrideTest, FileErrorsStayFileErrors) {
  // The override is fine; the file's own mistake is reported against the file.
  auto e = error("http: 5\n", {{"http.port", "1"}});
  EXPECT_EQ(e.file(), file());
  EXPECT_EQ(e.line(), 1);
  EXPECT_EQ(e.key(), "http");
  EXPECT_EQ(std::string(e.what()), file() + ":1: http: must be a mapping, got a scalar");
  // An override does not hide a bad neighbour in the file.
  e = error("http:\n  port: 1\n  host: \"\"\n", {{"http.port", "2"}});
  EXPECT_EQ(e.file(), file());
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.key(), "http.host");
}

}  // namespace
}  // namespace evmesh::control
