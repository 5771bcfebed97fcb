#include "mqtt_listener_config.h"

#include "evmesh/codec/mqtt_binding.h"

namespace evmesh::control::detail {

std::string topic_filter(const Reader& r, const YAML::Node& n, const std::string& k) {
  auto filter = r.text(n, k);
  if (!codec::valid_topic_filter(filter))
    r.fail(n, k,
           "is not a valid MQTT topic filter ('#' only last and alone in its level, '+' alone "
           "in its level, no NUL): '" + filter + "'");
  return filter;
}

std::chrono::milliseconds keep_alive_limit(const Reader& r, const YAML::Node& n, const std::string& k) {
  const auto d = r.duration(n, k, false);
  if (d.count() % 1000 != 0 || d < std::chrono::seconds(1) || d > std::chrono::seconds(65535))
    r.fail(n, k, "must be whole seconds from 1s to 65535s (MQTT 5.0 Server Keep Alive is 16 bits of seconds), got " +
                     std::to_string(d.count()) + " ms");
  return d;
}

std::vector<MqttTopicTypeConfig> read_topic_types(const Reader& r, const YAML::Node& list,
                                                  const std::string& key) {
  if (!list.IsSequence()) r.fail(list, key, "must be a list of {filter: TOPIC-FILTER, type: EVENT-TYPE}");
  std::vector<MqttTopicTypeConfig> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto item = list[i];
    const auto k = key + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) r.fail(item, k, "must be a mapping {filter: TOPIC-FILTER, type: EVENT-TYPE}");
    MqttTopicTypeConfig t;
    r.for_each(item, k, [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& v) {
      const auto child = join_key(k, name);
      if (name == "filter")
        t.filter = topic_filter(r, v, child);
      else if (name == "type")
        t.type = r.text(v, child);
      else
        r.fail(key_node, child, "unknown key (known: filter, type)");
    });
    if (t.filter.empty() || t.type.empty()) r.fail(item, k, "needs both filter and type");
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace evmesh::control::detail
