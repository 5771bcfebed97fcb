#include "evmesh/control/effective_config.h"

#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {
namespace {

using nlohmann::json;

json ms(std::chrono::milliseconds d) { return format_duration(d); }

const char* commit_name(store::CommitPolicy p) {
  switch (p) {
    case store::CommitPolicy::group: return "group";
    case store::CommitPolicy::interval: return "interval";
    case store::CommitPolicy::none: return "none";
  }
  return "?";
}

json path_json(const std::filesystem::path& p) { return p.empty() ? json(nullptr) : json(p.string()); }

json tls_json(const TlsConfig& t) {
  if (!t.enabled()) return nullptr;
  return {{"cert_file", t.cert_file}, {"key_file", t.key_file},
          {"client_ca_file", t.client_ca_file.empty() ? json(nullptr) : json(t.client_ca_file)}};
}

json auth_json(const AuthConfig& a, bool acl_exists) {
  auto keys = json::array();
  for (const auto& k : a.api_keys) keys.push_back({{"principal", k.principal}, {"hash", kRedacted}});
  auto issuers = json::array();
  for (const auto& j : a.jwt)
    issuers.push_back({{"issuer", j.issuer}, {"audience", j.audiences}, {"algorithm", j.algorithm},
                       {"key", kRedacted}, {"principal_claim", j.principal_claim},
                       {"principal_prefix", j.principal_prefix}, {"leeway", ms(j.leeway)}});
  return {{"anonymous", a.anonymous.value_or(!acl_exists)},
          {"api_keys", std::move(keys)},
          {"jwt", std::move(issuers)},
          {"mtls", {{"principal", a.mtls.principal}, {"prefix", a.mtls.prefix}}}};
}

json acl_json(const std::vector<AclEntryConfig>& entries) {
  auto out = json::array();
  for (const auto& e : entries) {
    auto rules = [](const std::vector<AclRuleConfig>& list) {
      auto r = json::array();
      for (const auto& rule : list) r.push_back({{std::string(to_string(rule.action)), rule.pattern}});
      return r;
    };
    out.push_back({{"name", e.name}, {"principal", e.principal}, {"allow", rules(e.allow)},
                   {"deny", rules(e.deny)}});
  }
  return out;
}

}  // namespace

json effective_config(const Config& c) {
  auto subs = json::array();
  for (const auto& sub : c.subscriptions) {
    auto s = to_json(sub);
    if (auto ps = s.find("protocolsettings"); ps != s.end() && ps->contains("headers"))
      for (auto& [name, value] : (*ps)["headers"].items()) value = kRedacted;
    subs.push_back(std::move(s));
  }
  auto policies = json::array();
  for (const auto& p : c.policies) {
    auto rules = json::array();
    for (const auto& rule : p.rules) rules.push_back(rule.name);
    policies.push_back({{"name", p.name}, {"rules", std::move(rules)}});
  }
  return {
      {"file", c.file.string()},
      {"http",
       {{"host", c.http.host}, {"port", c.http.port}, {"max_event_bytes", c.http.max_event_bytes},
        {"max_batch_bytes", c.http.max_batch_bytes}, {"max_header_bytes", c.http.max_header_bytes},
        {"header_timeout", ms(c.http.header_timeout)}, {"body_timeout", ms(c.http.body_timeout)},
        {"idle_timeout", ms(c.http.idle_timeout)}, {"max_connections", c.http.max_connections},
        {"publish_wait", ms(c.http.publish_wait)},
        {"tls", tls_json(c.http.tls)}}},
      {"grpc",
       {{"enabled", c.grpc.enabled}, {"host", c.grpc.host}, {"port", c.grpc.port},
        {"max_message_bytes", c.grpc.max_message_bytes}, {"max_in_flight", c.grpc.max_in_flight},
        {"tls", tls_json(c.grpc.tls)}}},
      {"mqtt",
       {{"enabled", c.mqtt.enabled}, {"host", c.mqtt.host}, {"port", c.mqtt.port},
        {"max_connections", c.mqtt.max_connections}, {"tls", tls_json(c.mqtt.tls)}}},
      {"runtime",
       {{"threads", c.runtime.threads}, {"delivery_threads", c.runtime.delivery_threads},
        {"max_subscriptions", c.runtime.max_subscriptions},
        {"drain_timeout", ms(c.runtime.drain_timeout)}}},
      {"store",
       {{"data_dir", c.store.data_dir.string()}, {"commit", commit_name(c.store.commit)},
        {"sync_interval", ms(c.store.sync_interval)}, {"retention", ms(c.store.retention)},
        {"retention_bytes", c.store.retention_bytes}}},
      {"dedup", {{"window", ms(c.dedup.window)}, {"max_keys", c.dedup.max_keys}}},
      {"log", {{"level", c.log.level}, {"format", c.log.format}}},
      {"auth", auth_json(c.auth, !c.acl.empty())},
      {"acl", acl_json(c.acl)},
      {"admin",
       {{"listen", c.admin.enabled() ? json(c.admin.host + ":" + std::to_string(c.admin.port))
                                     : json(nullptr)},
        {"principals", c.admin.principals},
        {"tls", tls_json(c.admin.tls)}}},
      {"policies", std::move(policies)},
      {"encryption", {{"key_file", path_json(c.encryption.key_file)}}},
      {"schemas", {{"directory", path_json(c.schemas.directory)}}},
      {"subscriptions", std::move(subs)},
  };
}

Config config_in_force(const Config& running, const Config& next) {
  Config out = next;
  auto keep_listener = [](auto& section, const auto& was) {
    auto tls = section.tls;
    section = was;
    if (tls.enabled() && was.tls.enabled()) section.tls = std::move(tls);
  };
  keep_listener(out.http, running.http);
  keep_listener(out.admin, running.admin);
  keep_listener(out.mqtt, running.mqtt);
  out.grpc = running.grpc;  // gRPC's own TLS stack: a restart (docs/operations.md)
  out.runtime = running.runtime;
  out.webhook = running.webhook;
  out.store = running.store;
  out.dedup = running.dedup;
  out.log = running.log;
  out.mqtt_bridges = running.mqtt_bridges;
  out.reload = running.reload;
  return out;
}

namespace {

void diff(const json& a, const json& b, const std::string& key, std::vector<std::string>& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    for (const auto& [name, value] : a.items())
      diff(value, b.contains(name) ? b[name] : json(), key.empty() ? name : key + "." + name, out);
    for (const auto& [name, value] : b.items())
      if (!a.contains(name)) out.push_back(key.empty() ? name : key + "." + name);
    return;
  }
  out.push_back(key);
}

}  // namespace

std::vector<std::string> pending_restart(const Config& in_force, const Config& wanted) {
  std::vector<std::string> out;
  diff(effective_config(in_force), effective_config(wanted), "", out);
  return out;
}

}  // namespace evmesh::control
