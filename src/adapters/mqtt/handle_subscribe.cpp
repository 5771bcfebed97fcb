// SUBSCRIBE and UNSUBSCRIBE (MQTT 5.0 3.8-3.11).
//
// Each topic filter gets its own reason code: granted QoS (we grant what was asked,
// up to 2), or 0x8F for an invalid filter (0x80 in 3.1.1). No Local on a shared
// subscription is a protocol error (3.8.3.1). The SUBACK goes out before any
// retained message the subscription brings (those are queued, then flushed).
#include "connection.h"
#include "evmesh/codec/mqtt_binding.h"

namespace evmesh::mqtt {

void Connection::on_subscribe(const Subscribe& s) {
  const bool v5 = version_ == kMqtt5;
  std::uint32_t sub_id = s.props.subscription_ids.empty() ? 0 : s.props.subscription_ids.front();
  for (const auto& t : s.topics)
    if (t.no_local && t.filter.starts_with("$share/"))
      return fail(reason::protocol_error, "No Local on the shared subscription '" + t.filter + "'");
  SubAck ack{PacketType::suback, s.packet_id, {}, {}};
  for (const auto& t : s.topics) {
    auto outcome = ctx_->broker->subscribe(session_, t, sub_id);
    if (!v5 && outcome.reason >= 0x80) outcome.reason = reason::v3_suback_failure;
    ack.reasons.push_back(outcome.reason);
    ctx_->log->debug("{}: SUBSCRIBE '{}' qos {} -> 0x{:02x}", tag(), t.filter, t.qos, outcome.reason);
  }
  send(ack);
}

void Connection::on_unsubscribe(const Unsubscribe& u) {
  SubAck ack{PacketType::unsuback, u.packet_id, {}, {}};
  for (const auto& f : u.filters)
    ack.reasons.push_back(ctx_->broker->unsubscribe(session_, f) ? reason::success : reason::no_subscription_existed);
  send(ack);
}

}  // namespace evmesh::mqtt
