#include "adapters/mqtt/codec.h"

#include <gtest/gtest.h>

namespace evmesh::mqtt {
namespace {

std::string encode(const Packet& p, std::uint8_t version) {
  std::string out;
  encode_packet(p, version, out);
  return out;
}

// Splits a whole packet at its fixed header and decodes it.
Decoded<Packet> decode(std::string_view bytes, std::uint8_t version) {
  auto h = parse_frame_header(bytes);
  if (!h) return std::unexpected(h.error());
  if (!*h) return std::unexpected(DecodeError{0xFF, "incomplete header"});
  auto body = bytes.substr((*h)->header_size);
  if (body.size() != (*h)->remaining) return std::unexpected(DecodeError{0xFF, "length mismatch"});
  return decode_packet((*h)->first, body, version);
}

void expect_round_trip(const Packet& p, std::uint8_t version) {
  auto bytes = encode(p, version);
  auto back = decode(bytes, std::holds_alternative<Connect>(p) ? 0 : version);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p);
}

Properties rich_publish_props() {
  Properties p;
  p.payload_format = 1;
  p.message_expiry = 60;
  p.content_type = "application/json";
  p.response_topic = "r/t";
  p.correlation_data = std::string("\x00\x01", 2);
  p.subscription_ids = {1, 300, 268'435'455};
  p.topic_alias = 3;
  p.user_properties = {{"a", "1"}, {"a", "2"}};
  return p;
}

TEST(MqttCodec, EveryPacketRoundTripsIn5) {
  Connect c;
  c.clean_start = false;
  c.keep_alive = 30;
  c.client_id = "dev-1";
  c.props.session_expiry = 3600;
  c.props.receive_maximum = 10;
  c.props.maximum_packet_size = 1 << 20;
  c.props.topic_alias_maximum = 5;
  c.props.user_properties = {{"k", "v"}};
  c.will = Will{"last/will", "bye", 1, true, {}};
  c.will->props.will_delay = 5;
  c.will->props.content_type = "text/plain";
  c.username = "u";
  c.password = std::string("p\0w", 3);
  expect_round_trip(c, kMqtt5);
  Connack ca{true, reason::success, {}};
  ca.props.assigned_client_id = "auto-1";
  ca.props.topic_alias_maximum = 10;
  ca.props.shared_available = 1;
  expect_round_trip(ca, kMqtt5);
  expect_round_trip(Publish{false, 0, true, "a/b", 0, rich_publish_props(), "payload"}, kMqtt5);
  expect_round_trip(Publish{true, 2, false, "a/b", 7, {}, std::string(300, 'x')}, kMqtt5);
  for (auto t : {PacketType::puback, PacketType::pubrec, PacketType::pubrel, PacketType::pubcomp}) {
    expect_round_trip(Ack{t, 9, reason::success, {}}, kMqtt5);
    Ack with_reason{t, 9, reason::packet_id_not_found, {}};
    with_reason.props.reason_string = "why";
    expect_round_trip(with_reason, kMqtt5);
  }
  Subscribe s{5, {}, {{"a/+", 1, true, true, 2}, {"#", 2, false, false, 0}}};
  s.props.subscription_ids = {42};
  expect_round_trip(s, kMqtt5);
  expect_round_trip(SubAck{PacketType::suback, 5, {}, {0, 1, 0x80}}, kMqtt5);
  expect_round_trip(SubAck{PacketType::unsuback, 5, {}, {0, 0x11}}, kMqtt5);
  expect_round_trip(Unsubscribe{6, {}, {"a/+", "b"}}, kMqtt5);
  expect_round_trip(PingReq{}, kMqtt5);
  expect_round_trip(PingResp{}, kMqtt5);
  expect_round_trip(Disconnect{}, kMqtt5);
  Disconnect d{reason::disconnect_with_will, {}};
  d.props.session_expiry = 0;
  expect_round_trip(d, kMqtt5);
  Auth a{0x18, {}};
  a.props.auth_method = "SCRAM";
  expect_round_trip(a, kMqtt5);
}

TEST(MqttCodec, EveryPacketRoundTripsIn311) {
  Connect c;
  c.version = kMqtt311;
  c.client_id = "dev-1";
  c.will = Will{"w", "bye", 2, false, {}};
  c.username = "u";
  c.password = "p";
  expect_round_trip(c, kMqtt311);
  expect_round_trip(Connack{true, 0, {}}, kMqtt311);
  expect_round_trip(Publish{false, 1, false, "a", 1, {}, ""}, kMqtt311);
  expect_round_trip(Ack{PacketType::pubrel, 1, 0, {}}, kMqtt311);
  expect_round_trip(Subscribe{1, {}, {{"a/#", 1, false, false, 0}}}, kMqtt311);
  expect_round_trip(SubAck{PacketType::suback, 1, {}, {1, 0x80}}, kMqtt311);
  expect_round_trip(SubAck{PacketType::unsuback, 1, {}, {}}, kMqtt311);
  expect_round_trip(Unsubscribe{1, {}, {"a/#"}}, kMqtt311);
  expect_round_trip(Disconnect{}, kMqtt311);
}

TEST(MqttCodec, KnownBytes) {
  // A 3.1.1 CONNECT from the spec's example shape: clean session, keep alive 60, id "a".
  std::string connect("\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01\x61", 15);
  auto p = decode(connect, 0);
  ASSERT_TRUE(p) << p.error().message;
  auto& c = std::get<Connect>(*p);
  EXPECT_EQ(c.version, kMqtt311);
  EXPECT_EQ(c.keep_alive, 60);
  EXPECT_EQ(c.client_id, "a");
  EXPECT_EQ(encode(c, kMqtt311), connect);
  EXPECT_EQ(encode(PingResp{}, kMqtt5), std::string("\xd0\x00", 2));
  EXPECT_EQ(encode(Ack{PacketType::puback, 1, 0, {}}, kMqtt5), std::string("\x40\x02\x00\x01", 4));
}

struct BadCase {
  const char* name;
  std::string bytes;
  std::uint8_t version;
  std::uint8_t reason;
  const char* says;
};

class MqttCodecRejects : public testing::TestWithParam<BadCase> {};

TEST_P(MqttCodecRejects, WithReasonAndMessage) {
  const auto& c = GetParam();
  auto p = decode(c.bytes, c.version);
  ASSERT_FALSE(p) << c.name;
  EXPECT_EQ(p.error().reason, c.reason) << c.name << ": " << p.error().message;
  EXPECT_NE(p.error().message.find(c.says), std::string::npos) << c.name << ": " << p.error().message;
}

std::string s(const char* b, std::size_t n) { return std::string(b, n); }

INSTANTIATE_TEST_SUITE_P(
    Cases, MqttCodecRejects,
    testing::Values(
        BadCase{"protocol level 3", s("\x10\x0f\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x01\x61", 17), 0,
                reason::unsupported_protocol_version, "3.1"},
        BadCase{"protocol level 6", s("\x10\x0d\x00\x04MQTT\x06\x02\x00\x3c\x00\x01\x61", 15), 0,
                reason::unsupported_protocol_version, "level 6"},
        BadCase{"wrong protocol name", s("\x10\x0d\x00\x04MQXX\x04\x02\x00\x3c\x00\x01\x61", 15), 0,
                reason::protocol_error, "protocol name"},
        BadCase{"reserved connect flag", s("\x10\x0d\x00\x04MQTT\x04\x03\x00\x3c\x00\x01\x61", 15), 0,
                reason::malformed, "reserved connect flag"},
        BadCase{"will qos without will", s("\x10\x0d\x00\x04MQTT\x04\x0a\x00\x3c\x00\x01\x61", 15), 0,
                reason::malformed, "will QoS"},
        BadCase{"truncated client id", s("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x05\x61", 14), 0,
                reason::malformed, "truncated"},
        BadCase{"trailing bytes", s("\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x01\x61\x00", 16), 0,
                reason::malformed, "unexpected bytes"},
        BadCase{"invalid utf-8 client id", s("\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01\xc0", 15), 0,
                reason::malformed, "UTF-8"},
        BadCase{"publish before connect", s("\x30\x03\x00\x01\x61", 5), 0, reason::protocol_error,
                "first packet"},
        BadCase{"second connect", s("\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01\x61", 15), 4,
                reason::protocol_error, "second CONNECT"},
        BadCase{"publish qos 3", s("\x36\x03\x00\x01\x61", 5), 4, reason::malformed, "QoS 3"},
        BadCase{"publish dup at qos 0", s("\x38\x03\x00\x01\x61", 5), 4, reason::malformed, "DUP"},
        BadCase{"publish wildcard topic", s("\x30\x03\x00\x01+", 5), 4, reason::topic_name_invalid,
                "wildcard"},
        BadCase{"publish packet id 0", s("\x32\x05\x00\x01\x61\x00\x00", 7), 4, reason::protocol_error,
                "packet identifier 0"},
        BadCase{"publish unknown property", s("\x30\x06\x00\x01\x61\x02\x7f\x00", 8), 5, reason::malformed,
                "unknown property"},
        BadCase{"publish property not allowed", s("\x30\x09\x00\x01\x61\x05\x11\x00\x00\x00\x01", 11), 5,
                reason::malformed, "not allowed"},
        BadCase{"property block truncated",
                s("\x30\x0b\x00\x01\x61\x08\x02\x00\x00\x00\x01\x01\x00", 13), 5, reason::malformed,
                "truncated"},
        BadCase{"publish twice content type",
                s("\x30\x0a\x00\x01\x61\x06\x03\x00\x00\x03\x00\x00", 12), 5, reason::protocol_error,
                "more than once"},
        BadCase{"publish topic alias 0", s("\x30\x06\x00\x00\x03\x23\x00\x00", 8), 5,
                reason::topic_alias_invalid, "topic alias 0"},
        BadCase{"publish bad utf-8 marked payload", s("\x30\x07\x00\x01\x61\x02\x01\x01\xff", 9), 5,
                reason::payload_format_invalid, "UTF-8"},
        BadCase{"subscribe flags", s("\x80\x06\x00\x01\x00\x01\x61\x00", 8), 4, reason::malformed, "0010"},
        BadCase{"subscribe no topics", s("\x82\x02\x00\x01", 4), 4, reason::protocol_error, "no topic"},
        BadCase{"subscribe qos 3", s("\x82\x06\x00\x01\x00\x01\x61\x03", 8), 4, reason::malformed, "QoS 3"},
        BadCase{"subscribe reserved bits 3.1.1", s("\x82\x06\x00\x01\x00\x01\x61\x04", 8), 4,
                reason::malformed, "reserved"},
        BadCase{"subscribe retain handling 3", s("\x82\x07\x00\x01\x00\x00\x01\x61\x30", 9), 5,
                reason::protocol_error, "retain handling"},
        BadCase{"subscription id 0", s("\x82\x09\x00\x01\x02\x0b\x00\x00\x01\x61\x00", 11), 5,
                reason::protocol_error, "subscription identifier 0"},
        BadCase{"unsubscribe flags", s("\xa0\x05\x00\x01\x00\x01\x61", 7), 4, reason::malformed, "0010"},
        BadCase{"pubrel flags", s("\x60\x02\x00\x01", 4), 4, reason::malformed, "PUBREL"},
        BadCase{"pingreq with body", s("\xc0\x01\x00", 3), 4, reason::malformed, "no body"},
        BadCase{"auth in 3.1.1", s("\xf0\x00", 2), 4, reason::malformed, "AUTH"},
        BadCase{"auth reason 0x87", s("\xf0\x06\x87\x04\x15\x00\x01\x61", 8), 5, reason::malformed, "0x87"},
        BadCase{"auth without method", s("\xf0\x02\x18\x00", 4), 5, reason::protocol_error,
                "no authentication method"},
        BadCase{"auth empty", s("\xf0\x00", 2), 5, reason::protocol_error, "no authentication method"},
        BadCase{"connect auth data without method",
                s("\x10\x11\x00\x04MQTT\x05\x02\x00\x3c\x04\x16\x00\x01\x78\x00\x00", 19), 0,
                reason::protocol_error, "authentication data without"},
        BadCase{"non-minimal property length", s("\x30\x05\x00\x01\x61\x80\x00", 7), 5, reason::malformed,
                "minimally"}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (auto& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return n;
    });

TEST(MqttCodec, FrameHeader) {
  auto none = parse_frame_header(std::string("\x30", 1));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto partial = parse_frame_header(std::string("\x30\xff\xff", 3));
  ASSERT_TRUE(partial);
  EXPECT_FALSE(*partial);
  auto big = parse_frame_header(std::string("\x30\xff\xff\xff\x7f", 5));
  ASSERT_TRUE(big && *big);
  EXPECT_EQ((*big)->remaining, 268'435'455u);
  EXPECT_EQ((*big)->header_size, 5u);
  auto too_long = parse_frame_header(std::string("\x30\xff\xff\xff\xff\x01", 6));
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().reason, reason::malformed);
  EXPECT_FALSE(parse_frame_header(std::string("\x00\x00", 2)));
}

TEST(MqttCodec, PublishHeadPlusPayloadEqualsWholePacket) {
  Publish p{false, 1, false, "fan/out", 77, {}, std::string(200, 'p')};
  p.props.subscription_ids = {9};
  for (std::uint8_t v : {kMqtt311, kMqtt5}) {
    std::string head;
    encode_publish_head(p, p.payload.size(), v, head);
    EXPECT_EQ(head + p.payload, encode(p, v));
    EXPECT_EQ(encoded_publish_size(p, p.payload.size(), v), head.size() + p.payload.size());
  }
}

}  // namespace
}  // namespace evmesh::mqtt
