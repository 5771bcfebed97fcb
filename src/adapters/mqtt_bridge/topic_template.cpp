#include "topic_template.h"

#include <algorithm>

#include "evmesh/codec/mqtt_binding.h"

namespace evmesh::mqtt_bridge {
namespace {

constexpr std::string_view kScheme = "mqtt://";
constexpr std::size_t kMaxTopicBytes = 65535;  // MQTT UTF-8 string length limit

bool forbidden_in_topic(char c) { return c == '+' || c == '#' || c == '\0'; }

std::unexpected<Error> bad_sink(std::string what) {
  return fail(Errc::invalid_subscription, "sink: " + std::move(what), "sink");
}

}  // namespace

Result<SinkAddress> parse_sink_uri(std::string_view uri) {
  if (uri.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), uri.begin(),
                  [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); }))
    return bad_sink("an MQTT sink must be \"mqtt://BRIDGE/TOPIC\"");
  auto rest = uri.substr(kScheme.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0)
    return bad_sink("an MQTT sink must be \"mqtt://BRIDGE/TOPIC\": the bridge name is missing");
  if (slash + 1 == rest.size())
    return bad_sink("an MQTT sink must be \"mqtt://BRIDGE/TOPIC\": the topic is missing");
  return SinkAddress{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

Result<TopicTemplate> TopicTemplate::parse(std::string_view text) {
  if (text.empty()) return bad_sink("the topic is empty");
  if (text.size() > kMaxTopicBytes) return bad_sink("the topic is longer than 65535 bytes");
  if (!valid_utf8(text)) return bad_sink("the topic is not valid UTF-8");
  TopicTemplate out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find_first_of("{}", i);
    const auto fixed = text.substr(i, open == std::string_view::npos ? text.npos : open - i);
    if (std::ranges::any_of(fixed, forbidden_in_topic))
      return bad_sink("a topic name may not contain the wildcards + and # or NUL");
    if (!fixed.empty()) out.parts_.push_back({std::string(fixed), false});
    if (open == std::string_view::npos) break;
    if (text[open] == '}') return bad_sink("'}' without a matching '{' in the topic");
    const auto close = text.find('}', open + 1);
    if (close == std::string_view::npos) return bad_sink("'{' without a closing '}' in the topic");
    const auto name = text.substr(open + 1, close - open - 1);
    if (!valid_attribute_name(name))
      return bad_sink("{" + std::string(name) +
                      "} does not name an attribute (lower-case letters and digits)");
    out.parts_.push_back({std::string(name), true});
    i = close + 1;
  }
  return out;
}

Result<std::string> TopicTemplate::expand(const Event& ev) const {
  std::string topic;
  for (const auto& part : parts_) {
    if (!part.attribute) {
      topic += part.text;
      continue;
    }
    auto value = ev.attribute(part.text);
    if (!value)
      return fail(Errc::invalid_event,
                  "the event has no attribute '" + part.text + "' for the MQTT topic", part.text);
    if (value->empty() || std::ranges::any_of(*value, forbidden_in_topic))
      return fail(Errc::invalid_event,
                  "attribute '" + part.text +
                      "' is empty or holds + # or NUL, which an MQTT topic name may not contain",
                  part.text);
    topic += *value;
  }
  if (topic.size() > kMaxTopicBytes || !codec::valid_topic_name(topic))
    return fail(Errc::invalid_event, "the MQTT topic would be longer than 65535 bytes");
  return topic;
}

}  // namespace evmesh::mqtt_bridge
