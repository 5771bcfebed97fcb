// PUBLISH in both directions and its acknowledgements (MQTT 5.0 3.3-3.7, 4.3).
//
// Design note
// - Inbound QoS 1: route, then PUBACK. Inbound QoS 2 (method B of 4.3.3): route at
//   the first PUBLISH, remember the packet id until PUBREL; a duplicate PUBLISH
//   with the same id only gets its PUBREC again, so nothing is delivered twice.
// - The mesh sees every message first (MeshLink::ingest): a message that claims to
//   be a CloudEvent but is not a valid one is refused whole (5.0: the ack carries
//   0x99 and a reason string; 3.1.1 has no way to say no, it is logged and dropped).
// - ACL (docs/security.md): while one is enabled every PUBLISH is decoded to its
//   CloudEvent first and the connection's principal must be allowed to publish its
//   type; else 5.0 QoS 1/2 get 0x87 with a reason string. MQTT 3.1.1 has no reason
//   code (3.3.5): we acknowledge normally and drop the message rather than close,
//   so a client is not driven into a reconnect-and-resend loop. QoS 0 is dropped.
//   Every refusal is counted and logged by AccessControl (action "publish").
// - Topic aliases (5.0 3.3.2.3.4): an alias with a topic sets it, an alias alone
//   uses it; 0 or above our Topic Alias Maximum is 0x94, an unknown one 0x82.
// - Backpressure (session.h): when a subscriber queue is full the message is
//   queued anyway, acknowledged, and this connection reads nothing more until
//   room() — so a publisher goes at the pace of its slowest QoS 1/2 subscriber, and
//   no QoS 1/2 message is lost while that subscriber is connected.
// - Mesh overloaded (a full subscription queue): the connection pauses and tries
//   again, 1 ms doubling to 32 ms, for up to 10 s; then 5.0 gets 0x97.
// - Durable match (Runtime::publish with a deferral): the connection pauses, the
//   store commits on its own thread, then (back on the strand) the message reaches
//   MQTT subscribers and the ack goes out: an ack means committed, and no I/O thread
//   waits for a disk.
// - Outbound: PUBACK / PUBCOMP free an in-flight slot (receive maximum) and pull
//   the next queued message; PUBREC is answered with PUBREL.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connection.h"
#include "mesh_link.h"

namespace evmesh::mqtt {

namespace {
// How long a publish waits for a mesh subscription queue with room, pausing 1 ms,
// doubling up to 32 ms, before the PUBLISH is refused (0x97).
constexpr std::chrono::seconds kMeshWait{10};
constexpr std::chrono::milliseconds kMaxMeshPause{32};
}  // namespace

MessagePtr Connection::accept_inbound(Publish& p, EventPtr& decoded) {
  if (p.props.topic_alias) {
    auto alias = *p.props.topic_alias;
    if (alias > ctx_->limits.topic_alias_maximum) {
      fail(reason::topic_alias_invalid, "topic alias " + std::to_string(alias) + " exceeds the maximum of " +
                                            std::to_string(ctx_->limits.topic_alias_maximum));
      return nullptr;
    }
    if (p.topic.empty()) {
      auto it = inbound_aliases_.find(alias);
      if (it == inbound_aliases_.end()) {
        fail(reason::protocol_error, "topic alias " + std::to_string(alias) + " was never set");
        return nullptr;
      }
      p.topic = it->second;
    } else {
      inbound_aliases_[alias] = p.topic;
    }
  }
  if (!p.props.subscription_ids.empty()) {
    fail(reason::protocol_error, "a client PUBLISH must not carry a subscription identifier");
    return nullptr;
  }
  auto m = std::make_shared<Message>();
  m->topic = std::move(p.topic);
  m->qos = p.qos;
  m->retain = p.retain;
  m->payload = std::make_shared<const std::string>(std::move(p.payload));
  m->props = std::move(p.props);
  m->props.topic_alias.reset();
  if (m->props.message_expiry) m->expires_at = Clock::now() + std::chrono::seconds(*m->props.message_expiry);
  m->origin_client = client_id_;
  if (ctx_->access && ctx_->mesh && ctx_->access->acl_enabled()) {
    auto ev = ctx_->mesh->decode(*m, client_id_, version_);
    if (!ev) {
      refuse_publish(p.qos, p.packet_id, m->topic, ev.error().reason, ev.error().message);
      return nullptr;
    }
    if (auto ok = ctx_->access->authorize(principal_, control::AclAction::publish, (*ev)->type()); !ok) {
      refuse_publish(p.qos, p.packet_id, m->topic, reason::not_authorized, ok.error().message);
      return nullptr;
    }
    m->type = (*ev)->type();  // subscribers are checked against it (Broker::offer)
    decoded = std::move(*ev);
  }
  return m;
}

void Connection::refuse_publish(std::uint8_t qos, std::uint16_t packet_id, const std::string& topic,
                                std::uint8_t code, const std::string& why) {
  ctx_->log->debug("{}: PUBLISH on '{}' refused: {}", tag(), topic, why);
  if (qos == 0) return;
  const bool v5 = version_ == kMqtt5;
  Ack ack{qos == 1 ? PacketType::puback : PacketType::pubrec, packet_id, v5 ? code : reason::success, {}};
  if (v5 && problem_info_) ack.props.reason_string = why.substr(0, 512);
  send(ack);
}

void Connection::route_and_ack(const MessagePtr& m, std::uint8_t qos, std::uint16_t pid) {
  auto routed = ctx_->broker->publish(m, shared_from_this());
  pauses_ += static_cast<int>(routed.waiting);  // each ends with a room()
  if (closed_ || !session_) return;
  if (qos == 1) {
    send(Ack{PacketType::puback, pid, reason::success, {}});
  } else if (qos == 2) {
    {
      std::lock_guard lock(session_->mutex);
      session_->inbound_qos2.insert(pid);
    }
    send(Ack{PacketType::pubrec, pid, reason::success, {}});
  }
}

void Connection::on_publish(Publish&& p) {
  const auto qos = p.qos;
  const auto pid = p.packet_id;
  if (qos == 2) {
    std::unique_lock lock(session_->mutex);
    if (session_->inbound_qos2.contains(pid)) {  // a resend: already routed
      lock.unlock();
      send(Ack{PacketType::pubrec, pid, reason::success, {}});
      return;
    }
    if (session_->inbound_qos2.size() >= ctx_->limits.receive_maximum) {
      lock.unlock();
      return fail(reason::receive_maximum_exceeded,
                  "more than " + std::to_string(ctx_->limits.receive_maximum) + " QoS 2 messages in flight");
    }
  }
  EventPtr decoded;
  auto msg = accept_inbound(p, decoded);
  if (!msg) return;
  if (!ctx_->mesh) return route_and_ack(msg, qos, pid);
  ingest(msg, std::move(decoded), qos, pid);
}

void Connection::ingest(const MessagePtr& msg, EventPtr decoded, std::uint8_t qos, std::uint16_t pid,
                        std::optional<Clock::time_point> overloaded_since, std::chrono::milliseconds next_pause) {
  const bool retrying = overloaded_since.has_value();  // paused by the caller, unpaused here
  // A durable match: pause until the store has committed (the completion runs on
  // the committer thread, and comes back to this strand).
  bool deferred = false;
  auto later = [&]() -> MeshLink::IngestDone {
    deferred = true;
    pause();
    return [self = shared_from_this(), msg, qos, pid](std::optional<IngestRefusal> refused) {
      boost::asio::post(self->socket_.get_executor(), [self, msg, qos, pid, refused = std::move(refused)] {
        if (refused)
          self->refuse_publish(qos, pid, msg->topic, refused->reason, refused->message);
        else
          self->route_and_ack(msg, qos, pid);
        self->unpause();
      });
    };
  };
  auto refused = ctx_->mesh->ingest(*msg, client_id_, version_, std::move(decoded), later);
  const auto now = Clock::now();
  if (refused && refused->overloaded && !closed_ && now < overloaded_since.value_or(now) + kMeshWait) {
    // A full subscription queue: read nothing more and try again shortly, as the
    // gRPC adapter does, rather than refuse (3.1.1 could not even say so).
    if (!retrying) pause();
    auto timer = std::make_shared<boost::asio::steady_timer>(socket_.get_executor(), next_pause);
    timer->async_wait([self = shared_from_this(), timer, msg, qos, pid, since = overloaded_since.value_or(now),
                       next = std::min(next_pause * 2, kMaxMeshPause)](const boost::system::error_code&) {
      self->ingest(msg, nullptr, qos, pid, since, next);
    });
    return;
  }
  if (refused)
    refuse_publish(qos, pid, msg->topic, refused->reason, refused->message);
  else if (!deferred)
    route_and_ack(msg, qos, pid);
  if (retrying) unpause();
}

void Connection::on_ack(const Ack& a) {
  const bool v5 = version_ == kMqtt5;
  switch (a.type) {
    case PacketType::pubrel: {
      bool known;
      {
        std::lock_guard lock(session_->mutex);
        known = session_->inbound_qos2.erase(a.packet_id) > 0;
      }
      send(Ack{PacketType::pubcomp, a.packet_id, known || !v5 ? reason::success : reason::packet_id_not_found, {}});
      return;
    }
    case PacketType::pubrec: {
      bool known = false;
      {
        std::lock_guard lock(session_->mutex);
        auto it = session_->inflight.find(a.packet_id);
        if (it != session_->inflight.end() && it->second.delivery.qos == 2) {
          known = true;
          if (a.reason >= 0x80)
            session_->inflight.erase(it);  // the receiver refused it: the flow ends here
          else
            it->second.released = true;
        }
      }
      if (a.reason < 0x80)
        send(Ack{PacketType::pubrel, a.packet_id, known || !v5 ? reason::success : reason::packet_id_not_found, {}});
      else
        flush();
      return;
    }
    case PacketType::puback:
    case PacketType::pubcomp: {
      {
        std::lock_guard lock(session_->mutex);
        auto it = session_->inflight.find(a.packet_id);
        const std::uint8_t want = a.type == PacketType::puback ? 1 : 2;
        if (it != session_->inflight.end() && it->second.delivery.qos == want) session_->inflight.erase(it);
      }
      flush();
      return;
    }
    default: return;
  }
}

}  // namespace evmesh::mqtt
