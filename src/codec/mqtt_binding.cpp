// The CloudEvents MQTT protocol binding (mqtt-protocol-binding.md, version 1.0.2).
//
// Design notes
// - Mode (3): a Content Type prefixed "application/cloudevents" is structured; we
//   understand only the JSON format and refuse others rather than guess. A
//   `specversion` user property means binary (MQTT 5 only: 3.1.1 has no properties).
// - Without a Content Type, a payload that is a JSON object with a top-level
//   "specversion" member is structured: 3.1.1 implies the JSON format (3.2.1), and
//   MQTT 5 clients that cannot set properties (mosquitto_pub -V 5 without -D) send the
//   same bytes. The substring test keeps plain JSON telemetry at one parse.
// - A plain message is not an error: devices publish raw payloads. It becomes an
//   event with the documented defaults (header comment, docs/protocols.md).
// - Encoding binary: every attribute but datacontenttype is a user property named as
//   the attribute (3.1.3.1), valued by its canonical string (3.1.3.2).
#include "evmesh/codec/mqtt_binding.h"

#include <random>

#include <nlohmann/json.hpp>

#include "evmesh/codec/http_binding.h"
#include "evmesh/codec/json_format.h"
#include "media_type.h"

namespace evmesh::codec {
namespace {

constexpr std::string_view kCloudEventsPrefix = "application/cloudevents";

std::string generate_event_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  auto hi = rng(), lo = rng();
  // An RFC 9562 version 4 UUID: 122 random bits.
  hi = (hi & ~0xF000ULL) | 0x4000ULL;
  lo = (lo & ~(0xC000ULL << 48)) | (0x8000ULL << 48);
  for (int i = 60; i >= 0; i -= 4) {
    id.push_back(kHex[(hi >> i) & 0xF]);
    if (id.size() == 8 || id.size() == 13) id.push_back('-');
  }
  id.push_back('-');
  for (int i = 60; i >= 0; i -= 4) {
    id.push_back(kHex[(lo >> i) & 0xF]);
    if (id.size() == 23) id.push_back('-');
  }
  return id;
}

// RFC 3986 unreserved characters pass; everything else is %XX, so any client id
// (MQTT allows any UTF-8) makes a valid URI-reference.
std::string percent_encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

bool looks_structured(std::string_view payload) {
  if (payload.find("\"specversion\"") == std::string_view::npos) return false;
  auto j = nlohmann::json::parse(payload, nullptr, false);
  return j.is_object() && j.contains("specversion");
}

bool has_property(const MqttMessage& m, std::string_view name) {
  for (const auto& [k, v] : m.user_properties)
    if (k == name) return true;
  return false;
}

Result<EventPtr> decode_structured(const MqttMessage& m) {
  if (m.content_type) {
    MediaType mt = parse_media_type(*m.content_type);
    if (mt.essence != kStructuredJson)
      return fail(Errc::unsupported_media,
                  "Content Type '" + *m.content_type +
                      "' is a CloudEvents format this broker does not support: use " +
                      std::string(kStructuredJson) + " or binary mode");
    if (mt.charset && *mt.charset != "utf-8" && *mt.charset != "utf8")
      return fail(Errc::unsupported_media, "Content Type '" + *m.content_type + "': charset '" +
                                               *mt.charset + "' given, but the JSON format is UTF-8");
  }
  return decode_json_event(m.payload);
}

Result<EventPtr> decode_binary(MqttMessage& m) {
  EventBuilder b;
  std::vector<std::string_view> seen;
  for (auto& [name, value] : m.user_properties) {
    if (name == "datacontenttype")
      return fail(Errc::invalid_event,
                  "user property 'datacontenttype' is not allowed in binary mode: the data content "
                  "type travels in the Content Type property",
                  name);
    if (!valid_attribute_name(name) || name == "data")
      return fail(Errc::invalid_event,
                  "user property '" + name +
                      "' is not a CloudEvents attribute name (lower-case letters and digits; "
                      "'data' is reserved)",
                  name);
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      return fail(Errc::invalid_event, "user property '" + name + "' appears more than once", name);
    seen.push_back(name);
    b.set(name, value);
  }
  if (m.content_type) b.set("datacontenttype", *m.content_type);
  if (m.content_type || !m.payload.empty()) b.data(std::move(m.payload));
  return std::move(b).build();
}

std::string type_for(std::string_view topic, const MqttIngestDefaults& d) {
  for (const auto& t : d.topic_types)
    if (topic_matches(t.filter, topic)) return t.type;
  return d.default_type;
}

Result<EventPtr> decode_plain(MqttMessage& m, const MqttIngestDefaults& d) {
  EventBuilder b;
  b.set("specversion", "1.0");
  b.set("id", generate_event_id());
  b.set("source", d.source_prefix + percent_encode_segment(d.client_id));
  b.set("type", type_for(m.topic, d));
  b.set("subject", m.topic);
  b.set(kMqttTopicExtension, m.topic);
  if (m.content_type)
    b.set("datacontenttype", *m.content_type);
  else if (!m.payload.empty() && nlohmann::json::accept(m.payload))
    b.set("datacontenttype", "application/json");
  b.data(std::move(m.payload));
  return std::move(b).build();
}

Result<EventPtr> decode(MqttMessage& m, const MqttIngestDefaults& d) {
  if (m.content_type && parse_media_type(*m.content_type).essence.starts_with(kCloudEventsPrefix))
    return decode_structured(m);
  if (m.protocol_version >= 5 && has_property(m, "specversion")) return decode_binary(m);
  if (!m.content_type && looks_structured(m.payload)) return decode_structured(m);
  return decode_plain(m, d);
}

}  // namespace

Result<EventPtr> decode_mqtt(const MqttMessage& msg, const MqttIngestDefaults& defaults) {
  MqttMessage copy = msg;
  return decode(copy, defaults);
}

Result<EventPtr> decode_mqtt(MqttMessage&& msg, const MqttIngestDefaults& defaults) {
  return decode(msg, defaults);
}

MqttMessage encode_mqtt(const Event& ev, MqttMode mode, int protocol_version, std::string topic) {
  MqttMessage m;
  m.topic = std::move(topic);
  m.protocol_version = protocol_version;
  // An event whose data is itself an event format would read as structured mode.
  bool nested = ev.datacontenttype() && ev.datacontenttype()->starts_with(kCloudEventsPrefix);
  if (mode == MqttMode::structured || protocol_version < 5 || nested) {
    m.payload = encode_json_event(ev);
    if (protocol_version >= 5) m.content_type = std::string(kStructuredJson);
    return m;
  }
  ev.for_each_attribute([&](std::string_view name, std::string_view value) {
    if (name != "datacontenttype") m.user_properties.emplace_back(name, value);
  });
  if (ev.datacontenttype())
    m.content_type = *ev.datacontenttype();
  else if (ev.has_data() && nlohmann::json::accept(*ev.data()))
    m.content_type = "application/json";
  if (ev.has_data()) m.payload = *ev.data();
  return m;
}

bool valid_topic_name(std::string_view topic) {
  return !topic.empty() && topic.find_first_of(std::string_view("+#\0", 3)) == std::string_view::npos;
}

bool valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (true) {
    auto end = filter.find('/', start);
    auto level = filter.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) return false;
    if (level == "#" && end != std::string_view::npos) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  // A '$' topic is reserved for the server: only a filter naming '$' explicitly matches.
  if (!topic.empty() && topic[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#'))
    return false;
  std::size_t f = 0, t = 0;
  while (true) {
    auto fe = filter.find('/', f);
    auto flevel = filter.substr(f, fe == std::string_view::npos ? std::string_view::npos : fe - f);
    if (flevel == "#") return true;  // "a/#" also matches "a" (handled below)
    auto te = topic.find('/', t);
    auto tlevel = topic.substr(t, te == std::string_view::npos ? std::string_view::npos : te - t);
    if (flevel != "+" && flevel != tlevel) return false;
    bool fend = fe == std::string_view::npos, tend = te == std::string_view::npos;
    if (fend && tend) return true;
    if (fend) return false;
    if (tend) return filter.substr(fe + 1) == "#";  // "sport/#" matches "sport"
    f = fe + 1;
    t = te + 1;
  }
}

}  // namespace evmesh::codec
