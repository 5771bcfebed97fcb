// MQTT control packets as values, for 3.1.1 (protocol level 4) and 5.0 (level 5).
// The codec (codec.h) turns bytes into these and back; the session acts on them.
// One struct serves both versions: fields 3.1.1 lacks (properties, reason codes
// other than the CONNACK/SUBACK ones) stay at their defaults there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace evmesh::mqtt {

inline constexpr std::uint8_t kMqtt311 = 4;
inline constexpr std::uint8_t kMqtt5 = 5;

enum class PacketType : std::uint8_t {
  connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback,
  unsubscribe, unsuback, pingreq, pingresp, disconnect, auth
};

// MQTT 5.0 reason codes (2.4) that the broker uses.
namespace reason {
inline constexpr std::uint8_t success = 0x00;
inline constexpr std::uint8_t granted_qos1 = 0x01;
inline constexpr std::uint8_t granted_qos2 = 0x02;
inline constexpr std::uint8_t disconnect_with_will = 0x04;
inline constexpr std::uint8_t no_matching_subscribers = 0x10;
inline constexpr std::uint8_t no_subscription_existed = 0x11;
inline constexpr std::uint8_t continue_authentication = 0x18;
inline constexpr std::uint8_t reauthenticate = 0x19;
inline constexpr std::uint8_t unspecified = 0x80;
inline constexpr std::uint8_t malformed = 0x81;
inline constexpr std::uint8_t protocol_error = 0x82;
inline constexpr std::uint8_t implementation_specific = 0x83;
inline constexpr std::uint8_t unsupported_protocol_version = 0x84;
inline constexpr std::uint8_t client_id_not_valid = 0x85;
inline constexpr std::uint8_t bad_username_password = 0x86;
inline constexpr std::uint8_t not_authorized = 0x87;
inline constexpr std::uint8_t server_unavailable = 0x88;
inline constexpr std::uint8_t server_busy = 0x89;
inline constexpr std::uint8_t bad_auth_method = 0x8C;
inline constexpr std::uint8_t keep_alive_timeout = 0x8D;
inline constexpr std::uint8_t session_taken_over = 0x8E;
inline constexpr std::uint8_t topic_filter_invalid = 0x8F;
inline constexpr std::uint8_t topic_name_invalid = 0x90;
inline constexpr std::uint8_t packet_id_in_use = 0x91;
inline constexpr std::uint8_t packet_id_not_found = 0x92;
inline constexpr std::uint8_t receive_maximum_exceeded = 0x93;
inline constexpr std::uint8_t topic_alias_invalid = 0x94;
inline constexpr std::uint8_t packet_too_large = 0x95;
inline constexpr std::uint8_t quota_exceeded = 0x97;
inline constexpr std::uint8_t payload_format_invalid = 0x99;
inline constexpr std::uint8_t server_shutting_down = 0x8B;
inline constexpr std::uint8_t qos_not_supported = 0x9B;
inline constexpr std::uint8_t shared_subscriptions_not_supported = 0x9E;
// MQTT 3.1.1 CONNACK return codes (3.2.2.3).
inline constexpr std::uint8_t v3_unacceptable_protocol = 0x01;
inline constexpr std::uint8_t v3_identifier_rejected = 0x02;
inline constexpr std::uint8_t v3_server_unavailable = 0x03;
inline constexpr std::uint8_t v3_bad_username_password = 0x04;
inline constexpr std::uint8_t v3_not_authorized = 0x05;
inline constexpr std::uint8_t v3_suback_failure = 0x80;
}  // namespace reason

using UserProperties = std::vector<std::pair<std::string, std::string>>;

// MQTT 5.0 properties (2.2.2.2). Absent = not on the wire.
struct Properties {
  std::optional<std::uint8_t> payload_format;          // 0x01
  std::optional<std::uint32_t> message_expiry;         // 0x02
  std::optional<std::string> content_type;             // 0x03
  std::optional<std::string> response_topic;          // 0x08
  std::optional<std::string> correlation_data;        // 0x09 (binary)
  std::vector<std::uint32_t> subscription_ids;         // 0x0B
  std::optional<std::uint32_t> session_expiry;         // 0x11
  std::optional<std::string> assigned_client_id;       // 0x12
  std::optional<std::uint16_t> server_keep_alive;      // 0x13
  std::optional<std::string> auth_method;              // 0x15
  std::optional<std::string> auth_data;                // 0x16 (binary)
  std::optional<std::uint8_t> request_problem_info;    // 0x17
  std::optional<std::uint32_t> will_delay;             // 0x18
  std::optional<std::uint8_t> request_response_info;   // 0x19
  std::optional<std::string> response_info;            // 0x1A
  std::optional<std::string> server_reference;         // 0x1C
  std::optional<std::string> reason_string;            // 0x1F
  std::optional<std::uint16_t> receive_maximum;        // 0x21
  std::optional<std::uint16_t> topic_alias_maximum;    // 0x22
  std::optional<std::uint16_t> topic_alias;            // 0x23
  std::optional<std::uint8_t> maximum_qos;             // 0x24
  std::optional<std::uint8_t> retain_available;        // 0x25
  UserProperties user_properties;                      // 0x26
  std::optional<std::uint32_t> maximum_packet_size;    // 0x27
  std::optional<std::uint8_t> wildcard_available;      // 0x28
  std::optional<std::uint8_t> subscription_ids_available;  // 0x29
  std::optional<std::uint8_t> shared_available;        // 0x2A
  friend bool operator==(const Properties&, const Properties&) = default;
};

struct Will {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  Properties props;
  friend bool operator==(const Will&, const Will&) = default;
};

struct Connect {
  std::uint8_t version = kMqtt5;
  bool clean_start = true;
  std::uint16_t keep_alive = 60;
  Properties props;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;
  friend bool operator==(const Connect&, const Connect&) = default;
};

struct Connack {
  bool session_present = false;
  std::uint8_t reason = reason::success;
  Properties props;
  friend bool operator==(const Connack&, const Connack&) = default;
};

struct Publish {
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string topic;
  std::uint16_t packet_id = 0;  // QoS 1 and 2 only
  Properties props;
  std::string payload;
  friend bool operator==(const Publish&, const Publish&) = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP.
struct Ack {
  PacketType type = PacketType::puback;
  std::uint16_t packet_id = 0;
  std::uint8_t reason = reason::success;
  Properties props;
  friend bool operator==(const Ack&, const Ack&) = default;
};

struct SubscribeTopic {
  std::string filter;
  std::uint8_t qos = 0;
  bool no_local = false;             // 5.0
  bool retain_as_published = false;  // 5.0
  std::uint8_t retain_handling = 0;  // 5.0: 0 send, 1 send if new, 2 never
  friend bool operator==(const SubscribeTopic&, const SubscribeTopic&) = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  Properties props;
  std::vector<SubscribeTopic> topics;
  friend bool operator==(const Subscribe&, const Subscribe&) = default;
};

// SUBACK and UNSUBACK (3.1.1's UNSUBACK has no reason codes).
struct SubAck {
  PacketType type = PacketType::suback;
  std::uint16_t packet_id = 0;
  Properties props;
  std::vector<std::uint8_t> reasons;
  friend bool operator==(const SubAck&, const SubAck&) = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  Properties props;
  std::vector<std::string> filters;
  friend bool operator==(const Unsubscribe&, const Unsubscribe&) = default;
};

struct PingReq {
  friend bool operator==(const PingReq&, const PingReq&) = default;
};
struct PingResp {
  friend bool operator==(const PingResp&, const PingResp&) = default;
};

struct Disconnect {
  std::uint8_t reason = reason::success;
  Properties props;
  friend bool operator==(const Disconnect&, const Disconnect&) = default;
};

struct Auth {
  std::uint8_t reason = reason::success;
  Properties props;
  friend bool operator==(const Auth&, const Auth&) = default;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, SubAck, Unsubscribe, PingReq,
                            PingResp, Disconnect, Auth>;

}  // namespace evmesh::mqtt
