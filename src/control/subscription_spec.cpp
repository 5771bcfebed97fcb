// The Subscriptions API object (CloudEvents subscriptions spec, 3.2.1) <-> Subscription.
//
// Decisions beyond the spec, all visible to users:
//  - `protocol` is REQUIRED by the spec; we accept its absence when the sink is an
//    http:// or https:// URI and then assume "HTTP". "HTTP" and "GRPC" (grpc-group:NAME) are delivered;
//    the other protocols the spec names are refused as "not supported yet".
//  - Unknown properties are refused at every level we interpret (top level,
//    protocolsettings, delivery): a typo must not silently do nothing. `config` is
//    opaque and echoed back.
//  - `types`, when present, lists at least one type (omit it to accept every type).
//  - protocolsettings.headers may not set what the broker itself controls: framing
//    (Host, Content-Length, Transfer-Encoding, Connection, ...), Content-Type and the
//    ce-* attribute headers.
//  - `id` is taken when it is a string; the HTTP API decides whether to honour it.
//
// Every error is invalid_subscription with pointer naming the property in dotted
// form ("protocolsettings.headers.x-key", "delivery.maxattempts") and a message that
// starts with that pointer.
#include "evmesh/control/subscription_spec.h"

#include <algorithm>
#include <array>

#include "spec_detail.h"

namespace evmesh::control {
namespace {

using detail::got;
using detail::invalid;
using nlohmann::json;

constexpr std::array<std::string_view, 11> kTopLevel = {
    "id",       "source",           "types",    "config",  "filters",
    "sink",     "protocol",         "protocolsettings",    "delivery", "durable", "replay"};
constexpr std::array<std::string_view, 5> kOtherProtocols = {"AMQP", "MQTT3", "MQTT5", "KAFKA",
                                                             "NATS"};
constexpr std::array<std::string_view, 10> kReservedHeaders = {
    "host", "content-length", "transfer-encoding", "connection",  "keep-alive", "upgrade",
    "te",   "trailer",        "proxy-connection",  "content-type"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), lower);
  return out;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && to_lower(s.substr(0, prefix.size())) == prefix;
}

// RFC 9110 token characters.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").contains(c);
}

// Field values: visible characters, spaces and tabs; never CR, LF or NUL.
bool valid_header_value(std::string_view v) {
  return std::ranges::all_of(v, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

Result<void> parse_headers(const json& headers, SinkSpec& sink) {
  constexpr std::string_view kPath = "protocolsettings.headers";
  if (!headers.is_object())
    return invalid(kPath, "must be an object of header names to string values, " + got(headers));
  sink.headers.clear();
  for (const auto& [name, value] : headers.items()) {
    if (name.empty() || !std::ranges::all_of(name, is_tchar))
      return invalid(kPath, detail::quote(name) + " is not a valid HTTP header name");
    const auto pointer = detail::join(kPath, name);
    const auto lname = to_lower(name);
    if (std::ranges::find(kReservedHeaders, lname) != kReservedHeaders.end() ||
        lname.starts_with("ce-"))
      return invalid(pointer,
                     "header '" + name + "' is set by the broker and cannot be configured");
    if (!value.is_string()) return invalid(pointer, "must be a string, " + got(value));
    if (!valid_header_value(value.get_ref<const std::string&>()))
      return invalid(pointer, "contains a control character (CR, LF, NUL, ...)");
    for (const auto& [seen, _] : sink.headers)
      if (to_lower(seen) == lname) return invalid(pointer, "duplicates header '" + seen + "'");
    sink.headers.emplace_back(name, value.get<std::string>());
  }
  return {};
}

// An absolute URI; an mqtt:// sink may also be a URI template whose {attribute}
// placeholders name the topic per event (docs/mqtt-bridges.md).
bool valid_sink(const std::string& uri) {
  if (valid_uri(uri)) return true;
  if (!starts_with_icase(uri, "mqtt://")) return false;
  std::string plain;
  std::ranges::copy_if(uri, std::back_inserter(plain), [](char c) { return c != '{' && c != '}'; });
  return valid_uri(plain);
}

Result<void> parse_protocol(const json& body, SinkSpec& sink) {
  auto it = body.find("protocol");
  if (it == body.end()) {
    if (starts_with_icase(sink.uri, "http://") || starts_with_icase(sink.uri, "https://")) {
      sink.protocol = "HTTP";
      return {};
    }
    return invalid("protocol",
                   "is required (it may be left out only for http:// and https:// sinks)");
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    return invalid("protocol", "must be a non-empty string such as \"HTTP\", " + got(*it));
  const auto& name = it->get_ref<const std::string&>();
  if (name == "HTTP") {
    sink.protocol = name;
    return {};
  }
  // GRPC: events go to the consumer group NAME of the gRPC listener's Subscribe
  // streams (docs/grpc.md); the sink factory checks the name.
  if (name == "GRPC") {
    if (!sink.uri.starts_with("grpc-group:"))
      return invalid("sink", "a GRPC sink must be \"grpc-group:NAME\", got " + detail::quote(sink.uri));
    sink.protocol = name;
    return {};
  }
  // MQTT: events are published through the MQTT bridge BRIDGE to TOPIC on its
  // external broker (docs/mqtt-bridges.md); the bridges check the rest.
  if (name == "MQTT") {
    if (!starts_with_icase(sink.uri, "mqtt://"))
      return invalid("sink", "an MQTT sink must be \"mqtt://BRIDGE/TOPIC\", got " + detail::quote(sink.uri));
    sink.protocol = name;
    return {};
  }
  if (to_lower(name) == "http")
    return invalid("protocol", "protocol names are case-sensitive: use \"HTTP\", " + got(*it));
  if (std::ranges::find(kOtherProtocols, name) != kOtherProtocols.end())
    return invalid("protocol", "protocol '" + name + "' is not supported yet (supported: HTTP, GRPC, MQTT)");
  return invalid("protocol", "unknown protocol " + detail::quote(name) + " (supported: HTTP, GRPC, MQTT)");
}

Result<void> parse_protocol_settings(const json& body, SinkSpec& sink) {
  auto it = body.find("protocolsettings");
  if (it == body.end()) return {};
  if (!it->is_object()) return invalid("protocolsettings", "must be an object, " + got(*it));
  for (const auto& [name, value] : it->items()) {
    if (name == "method") {
      if (value == "POST" || value == "PUT") {
        sink.method = value.get<std::string>();
      } else {
        return invalid("protocolsettings.method", "must be \"POST\" or \"PUT\", " + got(value));
      }
    } else if (name == "headers") {
      if (auto r = parse_headers(value, sink); !r) return r;
    } else {
      return invalid(
          detail::pointer_safe(name) ? detail::join("protocolsettings", name) : "protocolsettings",
          "unknown HTTP protocol setting " + detail::quote(name) + " (known: method, headers)");
    }
  }
  return {};
}

Result<void> parse_types(const json& types, std::vector<std::string>& out) {
  if (!types.is_array()) return invalid("types", "must be an array of event types, " + got(types));
  if (types.empty())
    return invalid("types", "must list at least one type (leave it out to accept every type)");
  for (std::size_t i = 0; i < types.size(); ++i) {
    const auto& t = types[i];
    if (!t.is_string() || t.get_ref<const std::string&>().empty())
      return invalid("types[" + std::to_string(i) + "]", "must be a non-empty string, " + got(t));
    out.push_back(t.get<std::string>());
  }
  return {};
}

}  // namespace

Result<Subscription> parse_subscription(const json& body, const DeliveryPolicy& defaults,
                                        const SinkSpec& sink_defaults) {
  if (!body.is_object()) return invalid("", "a subscription must be a JSON object, " + got(body));
  for (const auto& [name, _] : body.items()) {
    if (std::ranges::find(kTopLevel, name) != kTopLevel.end()) continue;
    std::string what = "unknown property " + detail::quote(name);
    if (name == "sinkCredential" || name == "sinkcredential")
      what += " (sink credentials are not supported yet)";
    else
      what +=
          " (known: id, source, types, config, filters, sink, protocol, protocolsettings, "
          "delivery, durable, replay)";
    return invalid(detail::pointer_safe(name) ? name : "", what);
  }

  Subscription sub;
  sub.delivery = defaults;
  sub.sink = sink_defaults;
  sub.sink.uri.clear();

  if (auto it = body.find("id"); it != body.end()) {
    if (!it->is_string()) return invalid("id", "must be a string, " + got(*it));
    sub.id = it->get<std::string>();
  }
  if (auto it = body.find("source"); it != body.end()) {
    if (!it->is_string() || !valid_uri_reference(it->get_ref<const std::string&>()))
      return invalid("source",
                     "must be a non-empty URI-reference without spaces or control "
                     "characters, such as \"/shop/orders\", " +
                         got(*it));
    sub.source = it->get<std::string>();
  }
  if (auto it = body.find("types"); it != body.end())
    if (auto r = parse_types(*it, sub.types); !r) return std::unexpected(r.error());
  if (auto it = body.find("durable"); it != body.end()) {
    if (!it->is_boolean()) return invalid("durable", "must be true or false, " + got(*it));
    sub.durable = it->get<bool>();
  }
  if (auto it = body.find("replay"); it != body.end()) {
    if (!it->is_string()) return invalid("replay", "must be \"oldest\" or an RFC 3339 time, " + got(*it));
    auto from = ReplayFrom::parse(it->get<std::string>());
    if (!from) return invalid("replay", from.error().message);
    if (!sub.durable) return invalid("replay", "needs \"durable\": true (only a durable subscription keeps a log)");
    sub.replay = std::move(*from);
  }
  if (auto it = body.find("config"); it != body.end()) {
    if (!it->is_object()) return invalid("config", "must be an object, " + got(*it));
    if (it->contains("")) return invalid("config", "keys must be non-empty strings");
    sub.config = *it;
  }
  if (auto it = body.find("filters"); it != body.end()) {
    auto filters = filter::parse_filters(*it, "filters");
    if (!filters) return std::unexpected(filters.error());
    sub.filters = std::move(*filters);
  }

  auto sink = body.find("sink");
  if (sink == body.end())
    return invalid("sink",
                   "is required: the URI events are delivered to, such as "
                   "\"http://127.0.0.1:9000/hook\"");
  if (!sink->is_string() || !valid_sink(sink->get_ref<const std::string&>()))
    return invalid("sink",
                   "must be an absolute URI such as \"http://127.0.0.1:9000/hook\", " + got(*sink));
  sub.sink.uri = sink->get<std::string>();
  if (auto r = parse_protocol(body, sub.sink); !r) return std::unexpected(r.error());
  if (auto r = parse_protocol_settings(body, sub.sink); !r) return std::unexpected(r.error());

  static const json kNoDelivery;
  auto delivery = body.find("delivery");
  const json& delivery_object = delivery == body.end() ? kNoDelivery : *delivery;
  if (delivery != body.end() && delivery->is_null())
    return invalid("delivery", "must be an object, got null");
  if (auto r = detail::apply_delivery(delivery_object, "delivery", sub.delivery, sub.sink); !r)
    return std::unexpected(r.error());
  return sub;
}

json to_json(const Subscription& sub) {
  json out = json::object();
  out["id"] = sub.id;
  if (sub.source) out["source"] = *sub.source;
  if (!sub.types.empty()) out["types"] = sub.types;
  out["config"] = sub.config.is_object() ? sub.config : json::object();
  out["filters"] = filter::to_json(sub.filters);
  out["sink"] = sub.sink.uri;
  out["protocol"] = sub.sink.protocol;
  json headers = json::object();
  for (const auto& [name, value] : sub.sink.headers) headers[name] = value;
  out["protocolsettings"] = {{"method", sub.sink.method}, {"headers", std::move(headers)}};
  out["durable"] = sub.durable;
  if (sub.replay) out["replay"] = sub.replay->text;

  const auto& d = sub.delivery;
  out["delivery"] = {
      {"mode", sub.sink.mode == DeliveryMode::structured ? "structured" : "binary"},
      {"maxattempts", d.retry.max_attempts},
      {"maxage", format_duration(d.retry.max_age)},
      {"initialbackoff", format_duration(d.retry.initial_backoff)},
      {"maxbackoff", format_duration(d.retry.max_backoff)},
      {"timeout", format_duration(sub.sink.timeout)},
      {"concurrency", d.concurrency},
      {"queuecapacity", d.queue_capacity},
      {"deadlettersink", d.dead_letter ? json(d.dead_letter->uri) : json(nullptr)},
  };
  return out;
}

bool valid_subscription_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::ranges::all_of(id, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
  });
}

}  // namespace evmesh::control
