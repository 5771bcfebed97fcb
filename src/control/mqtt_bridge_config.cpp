// `mqtt_bridges:` -> Config::mqtt_bridges. A bridge name becomes part of sink URIs
// (mqtt://NAME/topic) and of the default client id, so it is restricted to the
// characters of a URI host label.
#include "mqtt_bridge_config.h"
#include "mqtt_listener_config.h"

#include <algorithm>
#include <functional>
#include <map>

#include "evmesh/codec/mqtt_binding.h"

namespace evmesh::control::detail {
namespace {

using Apply = std::function<void(const Reader&, const YAML::Node&, const std::string&,
                                 MqttBridgeConfig&)>;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool valid_bridge_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::ranges::all_of(name, name_char);
}

// Client ids: printable ASCII without spaces, short enough for any broker's limit
// once "-out" is appended.
bool valid_client_id(std::string_view id) {
  return !id.empty() && id.size() <= 60 &&
         std::ranges::all_of(id, [](char c) { return c > ' ' && c < 0x7f; });
}

// tcp://host:port with a non-empty host and a port 1-65535.
bool valid_url(std::string_view url) {
  constexpr std::string_view kScheme = "tcp://";
  if (!url.starts_with(kScheme)) return false;
  auto rest = url.substr(kScheme.size());
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
  auto host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (std::ranges::any_of(host, [](char c) { return c <= ' ' || c == '/' || c == '@'; }))
    return false;
  if (port.size() > 5 || !std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  const int p = std::stoi(std::string(port));
  return p >= 1 && p <= 65535;
}

template <typename F>
void for_each_item(const Reader& r, const YAML::Node& list, const std::string& key, F&& f) {
  if (!list.IsSequence()) r.fail(list, key, "must be a list");
  for (std::size_t i = 0; i < list.size(); ++i)
    f(list[i], key + "[" + std::to_string(i) + "]");
}

const std::map<std::string, Apply, std::less<>>& fields() {
  static const std::map<std::string, Apply, std::less<>> kFields = {
      {"url",
       [](auto& r, auto& n, auto& k, auto& b) {
         b.url = r.text(n, k);
         if (!valid_url(b.url))
           r.fail(n, k, "must be tcp://HOST:PORT (port 1-65535), got '" + b.url + "'");
       }},
      {"client_id",
       [](auto& r, auto& n, auto& k, auto& b) {
         b.client_id = r.text(n, k);
         if (!valid_client_id(b.client_id))
           r.fail(n, k, "must be 1 to 60 printable ASCII characters without spaces");
       }},
      {"protocol_version",
       [](auto& r, auto& n, auto& k, auto& b) {
         b.protocol_version = r.one_of(n, k, {"4", "5"}) == "5" ? 5 : 4;
       }},
      {"username", [](auto& r, auto& n, auto& k, auto& b) { b.username = r.text(n, k); }},
      {"password", [](auto& r, auto& n, auto& k, auto& b) { b.password = r.text(n, k); }},
      {"keepalive", [](auto& r, auto& n, auto& k, auto& b) { b.keepalive = r.duration(n, k, false); }},
      {"connect_timeout",
       [](auto& r, auto& n, auto& k, auto& b) { b.connect_timeout = r.duration(n, k, false); }},
      {"session_expiry",
       [](auto& r, auto& n, auto& k, auto& b) { b.session_expiry = r.duration(n, k, true); }},
      {"initial_backoff",
       [](auto& r, auto& n, auto& k, auto& b) { b.initial_backoff = r.duration(n, k, false); }},
      {"max_backoff",
       [](auto& r, auto& n, auto& k, auto& b) { b.max_backoff = r.duration(n, k, false); }},
      {"subscribe",
       [](auto& r, auto& n, auto& k, auto& b) {
         b.subscribe.clear();
         for_each_item(r, n, k, [&](const YAML::Node& item, const std::string& ik) {
           b.subscribe.push_back(topic_filter(r, item, ik));
         });
       }},
      {"max_in_flight",
       [](auto& r, auto& n, auto& k, auto& b) { b.max_in_flight = r.integer(n, k, 1, 65535); }},
      {"max_message_bytes",
       [](auto& r, auto& n, auto& k, auto& b) { b.max_message_bytes = r.size(n, k, 1, 256 << 20); }},
      {"types", [](auto& r, auto& n, auto& k, auto& b) { b.types = read_topic_types(r, n, k); }},
      {"default_type",
       [](auto& r, auto& n, auto& k, auto& b) { b.default_type = r.text(n, k); }},
  };
  return kFields;
}

std::string known_keys() {
  std::string out;
  for (const auto& [name, _] : fields()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

MqttBridgeConfig read_bridge(const Reader& r, const std::string& name, const YAML::Node& node,
                             const std::string& key) {
  if (!node.IsMap()) r.fail(node, key, "must be a mapping of bridge settings (url, subscribe, ...)");
  MqttBridgeConfig b;
  b.name = name;
  b.client_id = "evmesh-" + name;
  r.for_each(node, key, [&](const std::string& field, const YAML::Node& key_node, const YAML::Node& v) {
    const auto child = join_key(key, field);
    auto it = fields().find(field);
    if (it == fields().end()) r.fail(key_node, child, "unknown key (bridge keys: " + known_keys() + ")");
    if (!v.IsDefined() || v.IsNull())
      r.fail(key_node, child, "has no value; give one or remove the key to use the default");
    it->second(r, v, child, b);
  });
  if (b.url.empty()) r.fail(node, join_key(key, "url"), "is required: the broker as tcp://HOST:PORT");
  if (b.max_backoff < b.initial_backoff)
    r.fail(node["max_backoff"].IsDefined() ? node["max_backoff"] : node, join_key(key, "max_backoff"),
           "must be at least initial_backoff");
  return b;
}

}  // namespace

void read_mqtt_bridges(const Reader& r, const YAML::Node& section, Config& config) {
  const std::string key(kMqttBridgesSection);
  std::map<std::string, std::string> client_ids;  // url + client id -> bridge
  r.for_each(section, key, [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& v) {
    const auto child = join_key(key, name);
    if (!valid_bridge_name(name))
      r.fail(key_node, child,
             "a bridge name must be 1 to 64 characters from A-Z a-z 0-9 - _ (it is the host of "
             "mqtt://NAME/topic sinks)");
    auto bridge = read_bridge(r, name, v, child);
    if (auto [it, fresh] = client_ids.emplace(bridge.url + " " + bridge.client_id, name); !fresh)
      r.fail(v["client_id"].IsDefined() ? v["client_id"] : v, join_key(child, "client_id"),
             "client id '" + bridge.client_id + "' is also used by bridge '" + it->second +
                 "' on the same broker: the broker would disconnect one of them");
    config.mqtt_bridges.push_back(std::move(bridge));
  });
}

}  // namespace evmesh::control::detail
