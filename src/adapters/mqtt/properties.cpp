#include "properties.h"

#include <algorithm>

namespace evmesh::mqtt {
namespace {

using C = PropertyContext;
constexpr std::uint16_t operator|(C a, C b) {
  return static_cast<std::uint16_t>(a) | static_cast<std::uint16_t>(b);
}
constexpr std::uint16_t operator|(std::uint16_t a, C b) { return a | static_cast<std::uint16_t>(b); }
constexpr std::uint16_t bit(C c) { return static_cast<std::uint16_t>(c); }

constexpr std::uint16_t kMessage = C::publish | C::will;
constexpr std::uint16_t kReasonString =
    C::connack | C::ack | C::suback | C::unsuback | C::disconnect | C::auth;
constexpr std::uint16_t kEverywhere = 0x7FF;

struct Rule {
  std::uint8_t id;
  const char* name;
  std::uint16_t allowed;
};
constexpr Rule kRules[] = {
    {0x01, "payload format indicator", kMessage},
    {0x02, "message expiry interval", kMessage},
    {0x03, "content type", kMessage},
    {0x08, "response topic", kMessage},
    {0x09, "correlation data", kMessage},
    {0x0B, "subscription identifier", C::publish | C::subscribe},
    {0x11, "session expiry interval", C::connect | C::connack | C::disconnect},
    {0x12, "assigned client identifier", bit(C::connack)},
    {0x13, "server keep alive", bit(C::connack)},
    {0x15, "authentication method", C::connect | C::connack | C::auth},
    {0x16, "authentication data", C::connect | C::connack | C::auth},
    {0x17, "request problem information", bit(C::connect)},
    {0x18, "will delay interval", bit(C::will)},
    {0x19, "request response information", bit(C::connect)},
    {0x1A, "response information", bit(C::connack)},
    {0x1C, "server reference", C::connack | C::disconnect},
    {0x1F, "reason string", kReasonString},
    {0x21, "receive maximum", C::connect | C::connack},
    {0x22, "topic alias maximum", C::connect | C::connack},
    {0x23, "topic alias", bit(C::publish)},
    {0x24, "maximum qos", bit(C::connack)},
    {0x25, "retain available", bit(C::connack)},
    {0x26, "user property", kEverywhere},
    {0x27, "maximum packet size", C::connect | C::connack},
    {0x28, "wildcard subscription available", bit(C::connack)},
    {0x29, "subscription identifiers available", bit(C::connack)},
    {0x2A, "shared subscription available", bit(C::connack)},
};

const Rule* rule_for(std::uint8_t id) {
  auto it = std::ranges::find(kRules, id, &Rule::id);
  return it == std::end(kRules) ? nullptr : it;
}

DecodeError protocol_error(std::string m) { return {reason::protocol_error, std::move(m)}; }

template <typename T>
std::optional<DecodeError> set_once(std::optional<T>& slot, T value, const Rule& rule) {
  if (slot) return protocol_error(std::string("property '") + rule.name + "' appears more than once");
  slot = std::move(value);
  return std::nullopt;
}

std::optional<DecodeError> boolean(std::optional<std::uint8_t>& slot, std::uint8_t v, const Rule& rule) {
  if (v > 1) return protocol_error(std::string("property '") + rule.name + "' must be 0 or 1, got " + std::to_string(v));
  return set_once(slot, v, rule);
}

std::optional<DecodeError> read_one(wire::Reader& r, const Rule& rule, PropertyContext where, Properties& p) {
  const std::string what = std::string("property '") + rule.name + "'";
  switch (rule.id) {
    case 0x01: return boolean(p.payload_format, r.u8(what), rule);
    case 0x02: return set_once(p.message_expiry, r.u32(what), rule);
    case 0x03: return set_once(p.content_type, r.utf8(what), rule);
    case 0x08: return set_once(p.response_topic, r.utf8(what), rule);
    case 0x09: return set_once(p.correlation_data, r.binary(what), rule);
    case 0x0B: {
      auto id = r.varint(what);
      if (!r.ok()) return std::nullopt;
      if (id == 0) return protocol_error("subscription identifier 0 is not allowed");
      if (where == C::subscribe && !p.subscription_ids.empty())
        return protocol_error("property 'subscription identifier' appears more than once");
      p.subscription_ids.push_back(id);
      return std::nullopt;
    }
    case 0x11: return set_once(p.session_expiry, r.u32(what), rule);
    case 0x12: return set_once(p.assigned_client_id, r.utf8(what), rule);
    case 0x13: return set_once(p.server_keep_alive, r.u16(what), rule);
    case 0x15: return set_once(p.auth_method, r.utf8(what), rule);
    case 0x16: return set_once(p.auth_data, r.binary(what), rule);
    case 0x17: return boolean(p.request_problem_info, r.u8(what), rule);
    case 0x18: return set_once(p.will_delay, r.u32(what), rule);
    case 0x19: return boolean(p.request_response_info, r.u8(what), rule);
    case 0x1A: return set_once(p.response_info, r.utf8(what), rule);
    case 0x1C: return set_once(p.server_reference, r.utf8(what), rule);
    case 0x1F: return set_once(p.reason_string, r.utf8(what), rule);
    case 0x21: {
      auto v = r.u16(what);
      if (r.ok() && v == 0) return protocol_error("receive maximum 0 is not allowed");
      return set_once(p.receive_maximum, v, rule);
    }
    case 0x22: return set_once(p.topic_alias_maximum, r.u16(what), rule);
    case 0x23: {
      auto v = r.u16(what);
      if (r.ok() && v == 0) return DecodeError{reason::topic_alias_invalid, "topic alias 0 is not allowed"};
      return set_once(p.topic_alias, v, rule);
    }
    case 0x24: return boolean(p.maximum_qos, r.u8(what), rule);
    case 0x25: return boolean(p.retain_available, r.u8(what), rule);
    case 0x26: {
      auto k = r.utf8("user property name");
      auto v = r.utf8("user property value");
      p.user_properties.emplace_back(std::move(k), std::move(v));
      return std::nullopt;
    }
    case 0x27: {
      auto v = r.u32(what);
      if (r.ok() && v == 0) return protocol_error("maximum packet size 0 is not allowed");
      return set_once(p.maximum_packet_size, v, rule);
    }
    case 0x28: return boolean(p.wildcard_available, r.u8(what), rule);
    case 0x29: return boolean(p.subscription_ids_available, r.u8(what), rule);
    case 0x2A: return boolean(p.shared_available, r.u8(what), rule);
  }
  return std::nullopt;
}

template <typename F>
void for_each_present(const Properties& p, F&& put) {
  // put(id, kind, value): kind 'b' byte, 'h' u16, 'w' u32, 'v' varint, 's' string.
  auto opt8 = [&](std::uint8_t id, const std::optional<std::uint8_t>& v) { if (v) put(id, 'b', *v, std::string_view()); };
  auto opt16 = [&](std::uint8_t id, const std::optional<std::uint16_t>& v) { if (v) put(id, 'h', *v, std::string_view()); };
  auto opt32 = [&](std::uint8_t id, const std::optional<std::uint32_t>& v) { if (v) put(id, 'w', *v, std::string_view()); };
  auto opts = [&](std::uint8_t id, const std::optional<std::string>& v) { if (v) put(id, 's', 0, std::string_view(*v)); };
  opt8(0x01, p.payload_format);
  opt32(0x02, p.message_expiry);
  opts(0x03, p.content_type);
  opts(0x08, p.response_topic);
  opts(0x09, p.correlation_data);
  for (auto id : p.subscription_ids) put(0x0B, 'v', id, std::string_view());
  opt32(0x11, p.session_expiry);
  opts(0x12, p.assigned_client_id);
  opt16(0x13, p.server_keep_alive);
  opts(0x15, p.auth_method);
  opts(0x16, p.auth_data);
  opt8(0x17, p.request_problem_info);
  opt32(0x18, p.will_delay);
  opt8(0x19, p.request_response_info);
  opts(0x1A, p.response_info);
  opts(0x1C, p.server_reference);
  opts(0x1F, p.reason_string);
  opt16(0x21, p.receive_maximum);
  opt16(0x22, p.topic_alias_maximum);
  opt16(0x23, p.topic_alias);
  opt8(0x24, p.maximum_qos);
  opt8(0x25, p.retain_available);
  for (const auto& [k, v] : p.user_properties) put(0x26, 'p', 0, std::string_view(k), std::string_view(v));
  opt32(0x27, p.maximum_packet_size);
  opt8(0x28, p.wildcard_available);
  opt8(0x29, p.subscription_ids_available);
  opt8(0x2A, p.shared_available);
}

std::size_t body_size(const Properties& p) {
  std::size_t n = 0;
  for_each_present(p, [&](std::uint8_t, char kind, std::uint32_t v, std::string_view s,
                          std::string_view s2 = {}) {
    n += 1;
    switch (kind) {
      case 'b': n += 1; break;
      case 'h': n += 2; break;
      case 'w': n += 4; break;
      case 'v': n += wire::varint_size(v); break;
      case 's': n += 2 + s.size(); break;
      case 'p': n += 4 + s.size() + s2.size(); break;
    }
  });
  return n;
}

}  // namespace

std::optional<DecodeError> read_properties(wire::Reader& r, PropertyContext where, Properties& out) {
  auto length = r.varint("property length");
  if (!r.ok()) return DecodeError{reason::malformed, r.error()};
  auto block = r.sub(length, "property block");
  if (!r.ok()) return DecodeError{reason::malformed, r.error()};
  while (!block.done()) {
    auto id = block.u8("property identifier");
    const Rule* rule = rule_for(id);
    if (!rule) return DecodeError{reason::malformed, "unknown property identifier " + std::to_string(id)};
    if (!(rule->allowed & bit(where)))
      return DecodeError{reason::malformed,
                         std::string("property '") + rule->name + "' is not allowed in this packet"};
    if (auto err = read_one(block, *rule, where, out)) return err;
    if (!block.ok()) return DecodeError{reason::malformed, block.error()};
  }
  return std::nullopt;
}

std::size_t properties_size(const Properties& p) {
  auto n = body_size(p);
  return wire::varint_size(static_cast<std::uint32_t>(n)) + n;
}

void write_properties(std::string& out, const Properties& p) {
  wire::put_varint(out, static_cast<std::uint32_t>(body_size(p)));
  for_each_present(p, [&](std::uint8_t id, char kind, std::uint32_t v, std::string_view s,
                          std::string_view s2 = {}) {
    wire::put_u8(out, id);
    switch (kind) {
      case 'b': wire::put_u8(out, static_cast<std::uint8_t>(v)); break;
      case 'h': wire::put_u16(out, static_cast<std::uint16_t>(v)); break;
      case 'w': wire::put_u32(out, v); break;
      case 'v': wire::put_varint(out, v); break;
      case 's': wire::put_string(out, s); break;
      case 'p': wire::put_string(out, s); wire::put_string(out, s2); break;
    }
  });
}

}  // namespace evmesh::mqtt
