// Loading the daemon config: file -> YAML tree -> overrides spliced in -> typed,
// validated Config. Each key is described once, in the section tables below; the
// override checker takes its list of valid keys from the same tables.
//
// Subscriptions are converted to JSON and handed to parse_subscription, so the YAML
// and the HTTP API accept exactly the same objects; an error's pointer
// ("filters[0].exact") is mapped back onto the YAML node to report its line.
#include "evmesh/control/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <span>
#include <sstream>

#include "config_reader.h"
#include "mqtt_listener_config.h"
#include "mqtt_bridge_config.h"
#include "evmesh/control/subscription_spec.h"
#include "overrides.h"
#include "security_config.h"
#include "spec_detail.h"
#include "tls_config.h"

namespace evmesh::control {
namespace {

using detail::Reader;
using std::chrono::milliseconds;
constexpr std::uint64_t KiB = 1 << 10, MiB = 1 << 20, GiB = 1ULL << 30;

// apply(reader, value node, dotted key, config): reads, checks and stores one key.
using Apply = void (*)(const Reader&, const YAML::Node&, const std::string&, Config&);
struct Field {
  std::string_view name;
  Apply apply;
};
// One line per key: its name, then the statement that reads, checks and stores it.
// clang-format off
#define EVMESH_FIELD(name, ...) {name, [](auto& r, auto& n, auto& k, auto& c) { __VA_ARGS__; }}
// clang-format on

const Field kHttp[] = {
    EVMESH_FIELD("host", c.http.host = r.text(n, k)),
    EVMESH_FIELD("port", c.http.port = r.integer(n, k, 0, 65535)),
    EVMESH_FIELD("max_event_bytes", c.http.max_event_bytes = r.size(n, k, 1, GiB)),
    EVMESH_FIELD("max_batch_bytes", c.http.max_batch_bytes = r.size(n, k, 1, 4 * GiB)),
    EVMESH_FIELD("max_header_bytes", c.http.max_header_bytes = r.size(n, k, KiB, MiB)),
    EVMESH_FIELD("header_timeout", c.http.header_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("body_timeout", c.http.body_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("idle_timeout", c.http.idle_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("max_connections", c.http.max_connections = r.integer(n, k, 1, 1'000'000)),
    EVMESH_FIELD("publish_wait", c.http.publish_wait = r.duration(n, k, true)),
    EVMESH_FIELD("tls", c.http.tls = detail::read_tls(r, n, k)),
};
const Field kGrpc[] = {
    EVMESH_FIELD("enabled", c.grpc.enabled = r.one_of(n, k, {"true", "false"}) == "true"),
    EVMESH_FIELD("host", c.grpc.host = r.text(n, k)),
    EVMESH_FIELD("port", c.grpc.port = r.integer(n, k, 0, 65535)),
    EVMESH_FIELD("max_message_bytes", c.grpc.max_message_bytes = r.size(n, k, KiB, GiB)),
    EVMESH_FIELD("keepalive_time", c.grpc.keepalive_time = r.duration(n, k, false)),
    EVMESH_FIELD("keepalive_timeout", c.grpc.keepalive_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("max_in_flight", c.grpc.max_in_flight = r.integer(n, k, 1, 4096)),
    EVMESH_FIELD("publish_wait", c.grpc.publish_wait = r.duration(n, k, true)),
    EVMESH_FIELD("tls", c.grpc.tls = detail::read_tls(r, n, k)),
};
const Field kRuntime[] = {
    EVMESH_FIELD("threads", c.runtime.threads = r.integer(n, k, 0, 1024)),
    EVMESH_FIELD("delivery_threads", c.runtime.delivery_threads = r.integer(n, k, 1, 1024)),
    EVMESH_FIELD("max_subscriptions", c.runtime.max_subscriptions = r.integer(n, k, 1, 10'000'000)),
    EVMESH_FIELD("drain_timeout", c.runtime.drain_timeout = r.duration(n, k, true)),
};
const Field kWebhook[] = {
    EVMESH_FIELD("max_idle_connections_per_sink",
                 c.webhook.max_idle_connections_per_sink = r.integer(n, k, 0, 1024)),
    EVMESH_FIELD("connect_timeout", c.webhook.connect_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("pipeline_depth", c.webhook.pipeline_depth = r.integer(n, k, 1, 1024)),
};
store::CommitPolicy commit_policy(std::string_view s) {
  if (s == "interval") return store::CommitPolicy::interval;
  if (s == "none") return store::CommitPolicy::none;
  return store::CommitPolicy::group;
}
const Field kStore[] = {
    EVMESH_FIELD("data_dir", c.store.data_dir = r.text(n, k)),
    EVMESH_FIELD("commit", c.store.commit = commit_policy(r.one_of(n, k, {"group", "interval", "none"}))),
    EVMESH_FIELD("sync_interval", c.store.sync_interval = r.duration(n, k, false)),
    EVMESH_FIELD("retention", c.store.retention = r.duration(n, k, true)),
    EVMESH_FIELD("retention_bytes", c.store.retention_bytes = r.size(n, k, 0, std::uint64_t{1} << 50)),
};
const Field kDedup[] = {
    EVMESH_FIELD("window", c.dedup.window = r.duration(n, k, true)),
    EVMESH_FIELD("max_keys", c.dedup.max_keys = r.integer(n, k, 1, 100'000'000)),
};
const Field kLog[] = {
    EVMESH_FIELD("level",
                 c.log.level = r.one_of(n, k, {"trace", "debug", "info", "warn", "error", "off"})),
    EVMESH_FIELD("format", c.log.format = r.one_of(n, k, {"plain", "json"})),
};
const Field kMqtt[] = {
    EVMESH_FIELD("enabled", c.mqtt.enabled = r.one_of(n, k, {"true", "false"}) == "true"),
    EVMESH_FIELD("host", c.mqtt.host = r.text(n, k)),
    EVMESH_FIELD("port", c.mqtt.port = r.integer(n, k, 0, 65535)),
    EVMESH_FIELD("max_packet_bytes", c.mqtt.max_packet_bytes = r.size(n, k, 64, 268'435'460)),
    EVMESH_FIELD("max_connections", c.mqtt.max_connections = r.integer(n, k, 1, 10'000'000)),
    EVMESH_FIELD("receive_maximum", c.mqtt.receive_maximum = r.integer(n, k, 1, 65535)),
    EVMESH_FIELD("topic_alias_maximum", c.mqtt.topic_alias_maximum = r.integer(n, k, 0, 65535)),
    EVMESH_FIELD("connect_timeout", c.mqtt.connect_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("max_keep_alive", c.mqtt.max_keep_alive = detail::keep_alive_limit(r, n, k)),
    EVMESH_FIELD("max_queued_messages", c.mqtt.max_queued_messages = r.integer(n, k, 1, 10'000'000)),
    EVMESH_FIELD("slow_subscriber_timeout", c.mqtt.slow_subscriber_timeout = r.duration(n, k, false)),
    EVMESH_FIELD("max_session_expiry", c.mqtt.max_session_expiry = r.duration(n, k, true)),
    EVMESH_FIELD("max_retained_messages", c.mqtt.max_retained_messages = r.integer(n, k, 0, 100'000'000)),
    EVMESH_FIELD("event_topic", c.mqtt.event_topic = r.text(n, k)),
    EVMESH_FIELD("event_mode", c.mqtt.event_mode = r.one_of(n, k, {"binary", "structured"})),
    EVMESH_FIELD("event_qos", c.mqtt.event_qos = r.integer(n, k, 0, 2)),
    EVMESH_FIELD("source_prefix", c.mqtt.source_prefix = r.text(n, k)),
    EVMESH_FIELD("default_type", c.mqtt.default_type = r.text(n, k)),
    EVMESH_FIELD("topic_types", c.mqtt.topic_types = detail::read_topic_types(r, n, k)),
    EVMESH_FIELD("tls", c.mqtt.tls = detail::read_tls(r, n, k)),
};
// docs/security.md
const Field kAuth[] = {
    EVMESH_FIELD("anonymous", c.auth.anonymous = r.one_of(n, k, {"true", "false"}) == "true"),
    EVMESH_FIELD("api_keys", detail::read_api_keys(r, n, k, c.auth)),
    EVMESH_FIELD("jwt", detail::read_jwt(r, n, k, c.auth)),
    EVMESH_FIELD("mtls", detail::read_mtls(r, n, k, c.auth)),
};
const Field kAdmin[] = {
    EVMESH_FIELD("listen", detail::read_listen(r, n, k, c.admin)),
    EVMESH_FIELD("principals", c.admin.principals = detail::read_strings(r, n, k)),
    EVMESH_FIELD("tls", c.admin.tls = detail::read_tls(r, n, k)),
};
const Field kEncryption[] = {
    EVMESH_FIELD("key_file", c.encryption.key_file = r.text(n, k)),
};
const Field kSchemas[] = {
    EVMESH_FIELD("directory", c.schemas.directory = r.text(n, k)),
};
const Field kReload[] = {
    EVMESH_FIELD("watch", c.reload.watch = r.one_of(n, k, {"true", "false"}) == "true"),
};
#undef EVMESH_FIELD

struct Section {
  std::string_view name;
  std::span<const Field> fields;
};
const Section kFieldSections[] = {
    {"http", kHttp},       {"grpc", kGrpc},     {"runtime", kRuntime}, {"webhook", kWebhook},
    {"store", kStore},     {"log", kLog},       {"mqtt", kMqtt},       {"auth", kAuth},
    {"admin", kAdmin},     {"encryption", kEncryption}, {"schemas", kSchemas}, {"reload", kReload},
    {"dedup", kDedup}};

const std::vector<detail::SectionKeys>& schema() {
  static const auto keys = [] {
    std::vector<detail::SectionKeys> out;
    for (const auto& s : kFieldSections) {
      detail::SectionKeys section{s.name, {}};
      for (const auto& f : s.fields) section.keys.push_back(f.name);
      out.push_back(std::move(section));
    }
    out.push_back({"delivery", {detail::kDeliveryKeys.begin(), detail::kDeliveryKeys.end()}});
    out.push_back({"subscriptions", {}});
    out.push_back({detail::kMqttBridgesSection, {}});
    out.push_back({"acl", {}});
    out.push_back({"policy", {}});
    return out;
  }();
  return keys;
}

std::string compose(const std::string& file, int line, const std::string& key,
                    const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

// parse_subscription's messages start with their pointer; the config error names
// the full key separately.
std::string strip_pointer(const Error& e) {
  const auto prefix = e.pointer + ": ";
  if (!e.pointer.empty() && e.message.starts_with(prefix)) return e.message.substr(prefix.size());
  return e.message;
}

std::string read_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw ConfigError(file.string(), 0, "", "cannot read the config file: it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ConfigError(file.string(), 0, "",
                      std::string("cannot read the config file: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(file.string(), 0, "", "cannot read the config file: read error");
  return text.str();
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    auto docs = YAML::LoadAll(text);
    if (docs.size() > 1)
      throw ConfigError(file, docs[1].Mark().line + 1, "",
                        "the file holds more than one YAML document");
    return docs.empty() ? YAML::Node() : docs.front();
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file, e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  }
}

void read_fields(const Reader& r, const Section& section, const YAML::Node& node, Config& config) {
  const std::string prefix(section.name);
  r.for_each(node, prefix,
             [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& value) {
               const auto key = detail::join_key(prefix, name);
               auto field = std::ranges::find(section.fields, name, &Field::name);
               if (field == section.fields.end()) {
                 std::string known;
                 for (const auto& f : section.fields)
                   known += (known.empty() ? "" : ", ") + std::string(f.name);
                 r.fail(key_node, key, "unknown key (" + prefix + " keys: " + known + ")");
               }
               if (!value.IsDefined() || value.IsNull())
                 r.fail(key_node, key,
                        "has no value; give one or remove the key to use the default");
               field->apply(r, value, key, config);
             });
}

std::string id_of(const Reader& r, const YAML::Node& sub, const std::string& key) {
  const YAML::Node id = sub["id"];
  if (!id.IsDefined())
    r.fail(sub, key + ".id", "is required: every subscription in the config needs a unique id");
  const auto text = r.text(id, key + ".id");
  if (!valid_subscription_id(text))
    r.fail(id, key + ".id",
           "must be at most 128 characters from A-Z a-z 0-9 - _ . ~ "
           "(it is part of the URL /subscriptions/{id}), got " +
               detail::quote(text));
  return text;
}

void read_subscriptions(const Reader& r, const YAML::Node& list, Config& config) {
  if (!list.IsDefined() || list.IsNull()) return;
  if (!list.IsSequence())
    r.fail(list, "subscriptions",
           "must be a list of subscription objects, got " +
               std::string(list.IsMap() ? "a mapping" : "a scalar"));
  std::map<std::string, std::string> seen;  // id -> key of its first declaration
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    const auto key = "subscriptions[" + std::to_string(i) + "]";
    if (!node.IsMap())
      r.fail(node, key, "must be a subscription object (a mapping with id, sink, ...)");
    auto id = id_of(r, node, key);
    if (auto [it, fresh] = seen.emplace(id, key); !fresh)
      r.fail(node["id"], key + ".id",
             "duplicate subscription id '" + id + "' (also used by " + it->second + ")");
    auto body = r.to_json(node, key);
    body["id"] = id;  // as written: `id: 42` is the id "42"
    auto sub = parse_subscription(body, config.delivery, config.sink_defaults);
    if (!sub) {
      const auto& e = sub.error();
      r.fail(detail::node_at(node, e.pointer), detail::join_key(key, e.pointer), strip_pointer(e));
    }
    sub->declared_in_config = true;
    config.subscriptions.push_back(std::move(*sub));
  }
  if (config.subscriptions.size() > config.runtime.max_subscriptions)
    r.fail(list, "subscriptions",
           std::to_string(config.subscriptions.size()) +
               " subscriptions exceed runtime.max_subscriptions (" +
               std::to_string(config.runtime.max_subscriptions) + ")");
}

void read_policies(const Reader& r, const YAML::Node& node, Config& config) {
  if (!node.IsDefined() || node.IsNull()) return;
  auto policies = parse_policies(r.to_json(node, "policy"));
  if (!policies) {
    const auto& e = policies.error();
    const auto key = e.pointer.starts_with('[') ? "policy" + e.pointer : detail::join_key("policy", e.pointer);
    r.fail(detail::node_at(node, e.pointer), key, strip_pointer(e));
  }
  config.policies = std::move(*policies);
}

void check_limits(const Reader& r, const YAML::Node& root, const Config& config) {
  if (config.http.max_batch_bytes < config.http.max_event_bytes) {
    const auto batch = detail::node_at(root, "http.max_batch_bytes");
    const bool batch_set = batch.IsScalar();
    r.fail(batch_set ? batch : detail::node_at(root, "http.max_event_bytes"),
           batch_set ? "http.max_batch_bytes" : "http.max_event_bytes",
           "max_batch_bytes (" + detail::format_size(config.http.max_batch_bytes) +
               ") must be at least max_event_bytes (" +
               detail::format_size(config.http.max_event_bytes) +
               "): a batch may hold one event of the largest size");
  }
}

// `root` is a mapping or null (load_config checked).
Config read_config(const Reader& r, const YAML::Node& root) {
  Config config;
  YAML::Node delivery, subscriptions, mqtt_bridges, acl, policy;
  r.for_each(
      root, "", [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& value) {
        if (name == "delivery") return delivery.reset(value);
        if (name == "subscriptions") return subscriptions.reset(value);
        if (name == detail::kMqttBridgesSection) return mqtt_bridges.reset(value);
        if (name == "policy") return policy.reset(value);
        if (name == "acl") return acl.reset(value);
        auto section = std::ranges::find(kFieldSections, name, &Section::name);
        if (section == std::end(kFieldSections))
          r.fail(key_node, name,
                 "unknown section (known: http, grpc, runtime, webhook, store, log, mqtt, delivery, "
                 "subscriptions, mqtt_bridges, auth, acl, admin, policy, encryption, schemas, reload)");
        read_fields(r, *section, value, config);
      });
  check_limits(r, root, config);

  // Delivery defaults: the same object and rules as a subscription's `delivery`.
  auto defaults = r.to_json(delivery, "delivery");
  if (auto ok = detail::apply_delivery(defaults, "delivery", config.delivery, config.sink_defaults);
      !ok) {
    const auto& e = ok.error();
    r.fail(detail::node_at(root, e.pointer), e.pointer, strip_pointer(e));
  }
  read_subscriptions(r, subscriptions, config);
  detail::read_mqtt_bridges(r, mqtt_bridges, config);
  detail::read_acl(r, acl, config);
  read_policies(r, policy, config);
  detail::check_security(r, root, config);
  return config;
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, std::string message)
    : std::runtime_error(compose(file, line, key, message)),
      file_(std::move(file)),
      key_(std::move(key)),
      line_(line) {}

Config load_config(const std::filesystem::path& file, const Overrides& cli, char** environ_block) {
  const auto name = file.string();
  YAML::Node root = parse_yaml(read_file(file), name);
  Reader reader(name);
  if (root.IsDefined() && !root.IsNull() && !root.IsMap())
    reader.fail(root, "",
                "the top level must be a mapping of sections (http, grpc, runtime, webhook, "
                "log, delivery, subscriptions)");
  try {
    detail::apply_overrides(root, detail::collect_overrides(cli, environ_block, schema()), schema(),
                            reader);
    Config config = read_config(reader, root);
    config.file = file;
    for (auto* path : {&config.encryption.key_file, &config.schemas.directory})
      if (!path->empty() && path->is_relative()) *path = file.parent_path() / *path;
    return config;
  } catch (const YAML::Exception& e) {  // not expected: every access is type-checked first
    throw ConfigError(name, e.mark.line + 1, "", e.msg);
  }
}

}  // namespace evmesh::control
