#include "evmesh/control/effective_config.h"

#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {
namespace {

using nlohmann::json;

json ms(std::chrono::milliseconds d) { return format_duration(d); }

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
  return {
      {"file", c.file.string()},
      {"http",
       {{"host", c.http.host}, {"port", c.http.port}, {"max_event_bytes", c.http.max_event_bytes},
        {"max_batch_bytes", c.http.max_batch_bytes}, {"max_header_bytes", c.http.max_header_bytes},
        {"header_timeout", ms(c.http.header_timeout)}, {"body_timeout", ms(c.http.body_timeout)},
        {"idle_timeout", ms(c.http.idle_timeout)}, {"max_connections", c.http.max_connections},
        {"tls", tls_json(c.http.tls)}}},
      {"grpc",
       {{"enabled", c.grpc.enabled}, {"host", c.grpc.host}, {"port", c.grpc.port},
        {"max_message_bytes", c.grpc.max_message_bytes}, {"max_in_flight", c.grpc.max_in_flight}}},
      {"runtime",
       {{"threads", c.runtime.threads}, {"delivery_threads", c.runtime.delivery_threads},
        {"max_subscriptions", c.runtime.max_subscriptions},
        {"drain_timeout", ms(c.runtime.drain_timeout)}}},
      {"log", {{"level", c.log.level}, {"format", c.log.format}}},
      {"auth", auth_json(c.auth, !c.acl.empty())},
      {"acl", acl_json(c.acl)},
      {"admin",
       {{"listen", c.admin.enabled() ? json(c.admin.host + ":" + std::to_string(c.admin.port))
                                     : json(nullptr)},
        {"principals", c.admin.principals},
        {"tls", tls_json(c.admin.tls)}}},
      {"subscriptions", std::move(subs)},
  };
}

}  // namespace evmesh::control
