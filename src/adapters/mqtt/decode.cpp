// Decoding of every MQTT control packet, 3.1.1 and 5.0 (chapters 2 and 3 of each).
// The checks here are the ones that need no session state; the session adds the
// rest (packet identifiers in use, topic aliases, receive maximum).
#include <algorithm>

#include <fmt/format.h>

#include "codec.h"
#include "evmesh/core/event.h"
#include "properties.h"
#include "wire.h"

namespace evmesh::mqtt {
namespace {

using wire::Reader;

std::unexpected<DecodeError> malformed(std::string m) {
  return std::unexpected(DecodeError{reason::malformed, std::move(m)});
}
std::unexpected<DecodeError> protocol(std::string m) {
  return std::unexpected(DecodeError{reason::protocol_error, std::move(m)});
}

// Ends a section: the reader's first error, or bytes left over.
std::optional<DecodeError> finish(const Reader& r, std::string_view packet) {
  if (!r.ok()) return DecodeError{reason::malformed, std::string(packet) + ": " + r.error()};
  if (!r.done())
    return DecodeError{reason::malformed,
                       std::string(packet) + ": " + std::to_string(r.remaining()) + " unexpected bytes at the end"};
  return std::nullopt;
}

#define EVMESH_TRY_PROPS(reader, where, props, packet)                                    \
  if (auto err = read_properties(reader, where, props)) {                                  \
    err->message = std::string(packet) + ": " + err->message;                              \
    return std::unexpected(std::move(*err));                                               \
  }

Decoded<Packet> decode_connect(std::uint8_t flags, Reader r) {
  if (flags != 0) return malformed("CONNECT: reserved fixed header flags must be 0");
  auto name = r.binary("protocol name");
  auto level = r.u8("protocol level");
  if (!r.ok()) return malformed("CONNECT: " + r.error());
  if (name != "MQTT") {
    // 3.1 clients say "MQIsdp": answer them in the 3.1.1 form they understand.
    if (name == "MQIsdp")
      return std::unexpected(DecodeError{reason::unsupported_protocol_version,
                                         "CONNECT: MQTT 3.1 (\"MQIsdp\") is not supported; use 3.1.1 or 5.0"});
    return protocol("CONNECT: protocol name must be \"MQTT\"");
  }
  if (level != kMqtt311 && level != kMqtt5)
    return std::unexpected(DecodeError{reason::unsupported_protocol_version,
                                       "CONNECT: protocol level " + std::to_string(level) +
                                           " is not supported (4 = 3.1.1, 5 = 5.0)"});
  Connect c;
  c.version = level;
  auto cf = r.u8("connect flags");
  c.keep_alive = r.u16("keep alive");
  if (!r.ok()) return malformed("CONNECT: " + r.error());
  if (cf & 0x01) return malformed("CONNECT: the reserved connect flag must be 0");
  c.clean_start = cf & 0x02;
  bool will = cf & 0x04;
  std::uint8_t will_qos = (cf >> 3) & 0x03;
  bool will_retain = cf & 0x20;
  bool has_password = cf & 0x40, has_user = cf & 0x80;
  if (!will && (will_qos || will_retain))
    return malformed("CONNECT: will QoS and will retain must be 0 without a will");
  if (will_qos == 3) return malformed("CONNECT: will QoS 3 is not a QoS");
  if (level == kMqtt311 && has_password && !has_user)
    return malformed("CONNECT: a password without a user name is not allowed in 3.1.1");
  if (level == kMqtt5) EVMESH_TRY_PROPS(r, PropertyContext::connect, c.props, "CONNECT");
  c.client_id = r.utf8("client identifier");
  if (will) {
    Will w;
    w.qos = will_qos;
    w.retain = will_retain;
    if (level == kMqtt5) EVMESH_TRY_PROPS(r, PropertyContext::will, w.props, "CONNECT will");
    w.topic = r.utf8("will topic");
    w.payload = r.binary("will payload");
    if (r.ok() && (w.topic.empty() || w.topic.find_first_of("+#") != std::string::npos))
      return std::unexpected(DecodeError{reason::topic_name_invalid,
                                         "CONNECT: will topic '" + w.topic + "' is not a valid topic name"});
    c.will = std::move(w);
  }
  if (has_user) c.username = r.utf8("user name");
  if (has_password) c.password = r.binary("password");
  if (auto err = finish(r, "CONNECT")) return std::unexpected(*err);
  if (c.will && c.will->props.payload_format == 1 && !valid_utf8(c.will->payload))
    return std::unexpected(DecodeError{reason::payload_format_invalid,
                                       "CONNECT: the will payload is marked UTF-8 but is not"});
  if (c.props.auth_data && !c.props.auth_method)  // 3.1.2.11.10
    return protocol("CONNECT: authentication data without an authentication method");
  return c;
}

Decoded<Packet> decode_connack(std::uint8_t flags, Reader r, std::uint8_t version) {
  if (flags != 0) return malformed("CONNACK: reserved flags must be 0");
  Connack c;
  auto ack = r.u8("acknowledge flags");
  if (ack & 0xFE) return malformed("CONNACK: reserved acknowledge flags must be 0");
  c.session_present = ack & 1;
  c.reason = r.u8("reason code");
  if (version == kMqtt5 && r.remaining()) EVMESH_TRY_PROPS(r, PropertyContext::connack, c.props, "CONNACK");
  if (auto err = finish(r, "CONNACK")) return std::unexpected(*err);
  return c;
}

Decoded<Packet> decode_publish(std::uint8_t flags, Reader r, std::uint8_t version) {
  Publish p;
  p.dup = flags & 0x08;
  p.qos = (flags >> 1) & 0x03;
  p.retain = flags & 0x01;
  if (p.qos == 3) return malformed("PUBLISH: QoS 3 is not a QoS");
  if (p.qos == 0 && p.dup) return malformed("PUBLISH: DUP must be 0 at QoS 0");
  p.topic = r.utf8("topic name");
  if (p.qos > 0) {
    p.packet_id = r.u16("packet identifier");
    if (r.ok() && p.packet_id == 0) return protocol("PUBLISH: packet identifier 0 is not allowed");
  }
  if (version == kMqtt5) EVMESH_TRY_PROPS(r, PropertyContext::publish, p.props, "PUBLISH");
  if (!r.ok()) return malformed("PUBLISH: " + r.error());
  if (p.topic.find_first_of("+#") != std::string::npos)
    return std::unexpected(DecodeError{reason::topic_name_invalid,
                                       "PUBLISH: topic name '" + p.topic + "' contains a wildcard"});
  // An empty topic is allowed only with a topic alias (5.0); the session resolves it.
  if (p.topic.empty() && !p.props.topic_alias)
    return std::unexpected(DecodeError{reason::topic_name_invalid, "PUBLISH: the topic name is empty"});
  p.payload = r.rest();
  if (p.props.payload_format == 1 && !valid_utf8(p.payload))
    return std::unexpected(DecodeError{reason::payload_format_invalid,
                                       "PUBLISH: the payload is marked UTF-8 but is not"});
  return p;
}

Decoded<Packet> decode_ack(PacketType type, std::uint8_t flags, Reader r, std::uint8_t version) {
  const char* name = type == PacketType::puback   ? "PUBACK"
                     : type == PacketType::pubrec ? "PUBREC"
                     : type == PacketType::pubrel ? "PUBREL"
                                                  : "PUBCOMP";
  std::uint8_t want = type == PacketType::pubrel ? 0x02 : 0x00;
  if (flags != want) return malformed(std::string(name) + ": reserved fixed header flags are wrong");
  Ack a;
  a.type = type;
  a.packet_id = r.u16("packet identifier");
  if (version == kMqtt5 && r.remaining()) {
    a.reason = r.u8("reason code");
    if (r.remaining()) EVMESH_TRY_PROPS(r, PropertyContext::ack, a.props, name);
  }
  if (auto err = finish(r, name)) return std::unexpected(*err);
  if (a.packet_id == 0) return protocol(std::string(name) + ": packet identifier 0 is not allowed");
  return a;
}

Decoded<Packet> decode_subscribe(std::uint8_t flags, Reader r, std::uint8_t version) {
  if (flags != 0x02) return malformed("SUBSCRIBE: reserved fixed header flags must be 0010");
  Subscribe s;
  s.packet_id = r.u16("packet identifier");
  if (version == kMqtt5) EVMESH_TRY_PROPS(r, PropertyContext::subscribe, s.props, "SUBSCRIBE");
  while (r.ok() && !r.done()) {
    SubscribeTopic t;
    t.filter = r.utf8("topic filter");
    auto opts = r.u8("subscription options");
    if (!r.ok()) break;
    t.qos = opts & 0x03;
    if (t.qos == 3) return malformed("SUBSCRIBE: QoS 3 requested for '" + t.filter + "'");
    if (version == kMqtt5) {
      t.no_local = opts & 0x04;
      t.retain_as_published = opts & 0x08;
      t.retain_handling = (opts >> 4) & 0x03;
      if (t.retain_handling == 3) return protocol("SUBSCRIBE: retain handling 3 is not allowed");
      if (opts & 0xC0) return malformed("SUBSCRIBE: reserved subscription option bits must be 0");
    } else if (opts & 0xFC) {
      return malformed("SUBSCRIBE: reserved subscription option bits must be 0");
    }
    s.topics.push_back(std::move(t));
  }
  if (auto err = finish(r, "SUBSCRIBE")) return std::unexpected(*err);
  if (s.packet_id == 0) return protocol("SUBSCRIBE: packet identifier 0 is not allowed");
  if (s.topics.empty()) return protocol("SUBSCRIBE: no topic filter");
  return s;
}

Decoded<Packet> decode_suback(PacketType type, std::uint8_t flags, Reader r, std::uint8_t version) {
  if (flags != 0) return malformed("SUBACK/UNSUBACK: reserved flags must be 0");
  SubAck s;
  s.type = type;
  s.packet_id = r.u16("packet identifier");
  if (version == kMqtt5)
    EVMESH_TRY_PROPS(r, type == PacketType::suback ? PropertyContext::suback : PropertyContext::unsuback,
                     s.props, "SUBACK");
  while (r.ok() && !r.done()) s.reasons.push_back(r.u8("reason code"));
  if (auto err = finish(r, "SUBACK")) return std::unexpected(*err);
  return s;
}

Decoded<Packet> decode_unsubscribe(std::uint8_t flags, Reader r, std::uint8_t version) {
  if (flags != 0x02) return malformed("UNSUBSCRIBE: reserved fixed header flags must be 0010");
  Unsubscribe u;
  u.packet_id = r.u16("packet identifier");
  if (version == kMqtt5) EVMESH_TRY_PROPS(r, PropertyContext::unsubscribe, u.props, "UNSUBSCRIBE");
  while (r.ok() && !r.done()) u.filters.push_back(r.utf8("topic filter"));
  if (auto err = finish(r, "UNSUBSCRIBE")) return std::unexpected(*err);
  if (u.packet_id == 0) return protocol("UNSUBSCRIBE: packet identifier 0 is not allowed");
  if (u.filters.empty()) return protocol("UNSUBSCRIBE: no topic filter");
  return u;
}

Decoded<Packet> decode_reasoned(PacketType type, std::uint8_t flags, Reader r, std::uint8_t version) {
  const char* name = type == PacketType::disconnect ? "DISCONNECT" : "AUTH";
  if (flags != 0) return malformed(std::string(name) + ": reserved flags must be 0");
  if (type == PacketType::auth && version != kMqtt5) return malformed("AUTH exists only in MQTT 5.0");
  std::uint8_t code = reason::success;
  Properties props;
  if (version == kMqtt5 && r.remaining()) {
    code = r.u8("reason code");
    if (r.remaining())
      EVMESH_TRY_PROPS(r, type == PacketType::disconnect ? PropertyContext::disconnect : PropertyContext::auth,
                       props, name);
  }
  if (auto err = finish(r, name)) return std::unexpected(*err);
  if (type == PacketType::disconnect) return Disconnect{code, std::move(props)};
  // 3.15.2.1: Success, Continue authentication, Re-authenticate; nothing else.
  if (code != reason::success && code != reason::continue_authentication && code != reason::reauthenticate)
    return malformed(fmt::format("AUTH: reason code 0x{:02x} is not one of 0x00, 0x18, 0x19", code));
  if (!props.auth_method) return protocol("AUTH: no authentication method");  // 3.15.2.2.2
  return Auth{code, std::move(props)};
}

}  // namespace

Decoded<std::optional<FrameHeader>> parse_frame_header(std::string_view buf) {
  if (buf.empty()) return std::optional<FrameHeader>{};
  FrameHeader h;
  h.first = static_cast<std::uint8_t>(buf[0]);
  if ((h.first >> 4) == 0) return malformed("packet type 0 is reserved");
  std::uint32_t value = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (i >= buf.size()) return std::optional<FrameHeader>{};
    auto b = static_cast<std::uint8_t>(buf[i]);
    value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * (i - 1));
    if (!(b & 0x80)) {
      h.remaining = value;
      h.header_size = i + 1;
      return std::optional<FrameHeader>{h};
    }
  }
  return malformed("the remaining length is longer than 4 bytes");
}

Decoded<Packet> decode_packet(std::uint8_t first, std::string_view body, std::uint8_t version) {
  auto type = static_cast<PacketType>(first >> 4);
  std::uint8_t flags = first & 0x0F;
  Reader r(body);
  if (version == 0 && type != PacketType::connect)
    return protocol("the first packet must be CONNECT");
  if (version != 0 && type == PacketType::connect) return protocol("a second CONNECT");
  switch (type) {
    case PacketType::connect: {
      auto c = decode_connect(flags, r);
      // The refusal is written in the client's protocol version: remember it.
      if (!c && body.size() > 6 && body.substr(0, 6) == std::string_view("\0\4MQTT", 6))
        c.error().connect_version = static_cast<std::uint8_t>(body[6]);
      return c;
    }
    case PacketType::connack: return decode_connack(flags, r, version);
    case PacketType::publish: return decode_publish(flags, r, version);
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubrel:
    case PacketType::pubcomp: return decode_ack(type, flags, r, version);
    case PacketType::subscribe: return decode_subscribe(flags, r, version);
    case PacketType::suback:
    case PacketType::unsuback: return decode_suback(type, flags, r, version);
    case PacketType::unsubscribe: return decode_unsubscribe(flags, r, version);
    case PacketType::pingreq:
    case PacketType::pingresp:
      if (flags != 0) return malformed("PINGREQ/PINGRESP: reserved flags must be 0");
      if (!body.empty()) return malformed("PINGREQ/PINGRESP: must have no body");
      if (type == PacketType::pingreq) return PingReq{};
      return PingResp{};
    case PacketType::disconnect:
    case PacketType::auth: return decode_reasoned(type, flags, r, version);
  }
  return malformed("packet type 0 is reserved");
}

}  // namespace evmesh::mqtt
