// Encoding of every MQTT control packet, 3.1.1 and 5.0. Each encoder writes the
// variable header and payload into a scratch string, then the fixed header in front.
#include "codec.h"
#include "properties.h"
#include "wire.h"

namespace evmesh::mqtt {
namespace {

using namespace wire;

std::uint8_t first_byte(PacketType t, std::uint8_t flags = 0) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(t) << 4 | flags);
}

void frame(std::string& out, std::uint8_t first, const std::string& body) {
  put_u8(out, first);
  put_varint(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
}

struct Encoder {
  std::uint8_t version;
  std::string& out;
  bool v5() const { return version == kMqtt5; }

  void operator()(const Connect& c) {
    std::string b;
    put_string(b, "MQTT");
    put_u8(b, c.version);
    std::uint8_t flags = (c.clean_start ? 0x02 : 0) | (c.username ? 0x80 : 0) | (c.password ? 0x40 : 0);
    if (c.will) flags |= 0x04 | (c.will->qos << 3) | (c.will->retain ? 0x20 : 0);
    put_u8(b, flags);
    put_u16(b, c.keep_alive);
    if (v5()) write_properties(b, c.props);
    put_string(b, c.client_id);
    if (c.will) {
      if (v5()) write_properties(b, c.will->props);
      put_string(b, c.will->topic);
      put_string(b, c.will->payload);
    }
    if (c.username) put_string(b, *c.username);
    if (c.password) put_string(b, *c.password);
    frame(out, first_byte(PacketType::connect), b);
  }
  void operator()(const Connack& c) {
    std::string b;
    put_u8(b, c.session_present ? 1 : 0);
    put_u8(b, c.reason);
    if (v5()) write_properties(b, c.props);
    frame(out, first_byte(PacketType::connack), b);
  }
  void operator()(const Publish& p) {
    encode_publish_head(p, p.payload.size(), version, out);
    out.append(p.payload);
  }
  void operator()(const Ack& a) {
    std::string b;
    put_u16(b, a.packet_id);
    // 5.0 (3.4.2.1): reason and properties may be left out when success and empty.
    bool props = a.props != Properties{};
    if (v5() && (a.reason != reason::success || props)) {
      put_u8(b, a.reason);
      if (props) write_properties(b, a.props);
    }
    frame(out, first_byte(a.type, a.type == PacketType::pubrel ? 0x02 : 0), b);
  }
  void operator()(const Subscribe& s) {
    std::string b;
    put_u16(b, s.packet_id);
    if (v5()) write_properties(b, s.props);
    for (const auto& t : s.topics) {
      put_string(b, t.filter);
      std::uint8_t o = t.qos;
      if (v5()) o |= (t.no_local ? 0x04 : 0) | (t.retain_as_published ? 0x08 : 0) | (t.retain_handling << 4);
      put_u8(b, o);
    }
    frame(out, first_byte(PacketType::subscribe, 0x02), b);
  }
  void operator()(const SubAck& s) {
    std::string b;
    put_u16(b, s.packet_id);
    if (v5()) write_properties(b, s.props);
    if (v5() || s.type == PacketType::suback)
      for (auto r : s.reasons) put_u8(b, r);
    frame(out, first_byte(s.type), b);
  }
  void operator()(const Unsubscribe& u) {
    std::string b;
    put_u16(b, u.packet_id);
    if (v5()) write_properties(b, u.props);
    for (const auto& f : u.filters) put_string(b, f);
    frame(out, first_byte(PacketType::unsubscribe, 0x02), b);
  }
  void operator()(const PingReq&) { frame(out, first_byte(PacketType::pingreq), {}); }
  void operator()(const PingResp&) { frame(out, first_byte(PacketType::pingresp), {}); }
  void reasoned(PacketType t, std::uint8_t code, const Properties& props) {
    std::string b;
    bool has_props = props != Properties{};
    if (v5() && (code != reason::success || has_props || t == PacketType::auth)) {
      put_u8(b, code);
      if (has_props) write_properties(b, props);
    }
    frame(out, first_byte(t), b);
  }
  void operator()(const Disconnect& d) { reasoned(PacketType::disconnect, d.reason, d.props); }
  void operator()(const Auth& a) { reasoned(PacketType::auth, a.reason, a.props); }
};

std::size_t publish_variable_size(const Publish& p, std::uint8_t version) {
  std::size_t n = 2 + p.topic.size() + (p.qos ? 2 : 0);
  if (version == kMqtt5) n += properties_size(p.props);
  return n;
}

}  // namespace

void encode_packet(const Packet& p, std::uint8_t version, std::string& out) {
  std::visit(Encoder{version, out}, p);
}

void encode_publish_head(const Publish& p, std::size_t payload_size, std::uint8_t version,
                         std::string& out) {
  std::uint8_t flags = (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0);
  put_u8(out, first_byte(PacketType::publish, flags));
  put_varint(out, static_cast<std::uint32_t>(publish_variable_size(p, version) + payload_size));
  put_string(out, p.topic);
  if (p.qos) put_u16(out, p.packet_id);
  if (version == kMqtt5) write_properties(out, p.props);
}

std::size_t encoded_publish_size(const Publish& p, std::size_t payload_size, std::uint8_t version) {
  auto remaining = publish_variable_size(p, version) + payload_size;
  return 1 + varint_size(static_cast<std::uint32_t>(remaining)) + remaining;
}

}  // namespace evmesh::mqtt
