// SUBSCRIBE and UNSUBSCRIBE (MQTT 5.0 3.8-3.11).
//
// Each topic filter gets its own reason code: granted QoS (we grant what was asked,
// up to 2), 0x8F for an invalid filter, 0x87 for one the ACL denies (both 0x80 in
// 3.1.1). No Local on a shared subscription is a protocol error (3.8.3.1). The
// SUBACK goes out before any retained message the subscription brings (those are
// queued, then flushed).
//
// Design note: which SUBSCRIBE the ACL refuses. ACLs speak of event types, and a
// topic filter in general says nothing certain about the types it will carry, so
// most filters are granted and delivery is checked per message (docs/security.md).
// One case is decided at once: a filter naming a single topic (no wildcard) that a
// `topic_types` entry maps to a type the principal may not subscribe to — the
// operator said what that topic carries, and every such message would be withheld.
#include "connection.h"
#include "evmesh/codec/mqtt_binding.h"
#include "evmesh/control/access_control.h"
#include "mesh_link.h"
#include "topic_tree.h"

namespace evmesh::mqtt {

namespace {

// The ACL's denial of one SUBSCRIBE filter, or nullopt when it is granted.
std::optional<std::string> denied_by_acl(const ServerContext& ctx, const control::Principal& who,
                                         const std::string& full) {
  std::string_view group, filter;
  if (!ctx.access || !ctx.mesh || !ctx.access->acl_enabled() || !split_shared(full, group, filter) ||
      !codec::valid_topic_name(filter))
    return std::nullopt;
  auto type = ctx.mesh->mapped_type(filter);
  if (!type) return std::nullopt;
  auto ok = ctx.access->authorize(who, control::AclAction::subscribe, *type);  // counts and logs a denial
  if (ok) return std::nullopt;
  return ok.error().message;
}

}  // namespace

void Connection::on_subscribe(const Subscribe& s) {
  const bool v5 = version_ == kMqtt5;
  std::uint32_t sub_id = s.props.subscription_ids.empty() ? 0 : s.props.subscription_ids.front();
  for (const auto& t : s.topics)
    if (t.no_local && t.filter.starts_with("$share/"))
      return fail(reason::protocol_error, "No Local on the shared subscription '" + t.filter + "'");
  SubAck ack{PacketType::suback, s.packet_id, {}, {}};
  for (const auto& t : s.topics) {
    std::uint8_t code;
    if (auto denied = denied_by_acl(*ctx_, principal_, t.filter)) {
      code = reason::not_authorized;
      if (v5 && problem_info_ && !ack.props.reason_string) ack.props.reason_string = denied->substr(0, 512);
    } else {
      code = ctx_->broker->subscribe(session_, t, sub_id).reason;
    }
    if (!v5 && code >= 0x80) code = reason::v3_suback_failure;
    ack.reasons.push_back(code);
    ctx_->log->debug("{}: SUBSCRIBE '{}' qos {} -> 0x{:02x}", tag(), t.filter, t.qos, code);
  }
  // No reason string that would make the SUBACK exceed the client's Maximum Packet
  // Size (3.9.2.1.2); 16 bytes bound the headers, packet id and property lengths.
  if (ack.props.reason_string && client_max_packet_ &&
      16 + ack.props.reason_string->size() + ack.reasons.size() > client_max_packet_)
    ack.props.reason_string.reset();
  send(ack);
}

void Connection::on_unsubscribe(const Unsubscribe& u) {
  SubAck ack{PacketType::unsuback, u.packet_id, {}, {}};
  for (const auto& f : u.filters)
    ack.reasons.push_back(ctx_->broker->unsubscribe(session_, f) ? reason::success : reason::no_subscription_existed);
  send(ack);
}

}  // namespace evmesh::mqtt
