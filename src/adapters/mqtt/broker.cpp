#include "broker.h"

#include <boost/asio/steady_timer.hpp>

#include "connection.h"
#include "evmesh/codec/mqtt_binding.h"

namespace evmesh::mqtt {

namespace asio = boost::asio;

namespace {
void tell(const std::vector<RoomWaiterPtr>& waiters) {
  for (const auto& w : waiters) w->room();
}
}  // namespace

Broker::Broker(asio::any_io_executor ex, BrokerLimits limits, const control::AccessControl* access)
    : ex_(std::move(ex)), limits_(limits), access_(access) {}

Broker::Attached Broker::attach(const std::string& client_id, bool clean_start,
                                const std::shared_ptr<Connection>& conn, std::string principal) {
  Attached out;
  SessionPtr old;
  {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(client_id);
    if (it != sessions_.end()) {
      old = it->second;
      std::lock_guard slock(old->mutex);
      if (old->attached) out.previous = old->connection.lock();
      if (!clean_start) {
        out.session = old;
        out.present = true;
      }
    }
    if (!out.session) {
      out.session = std::make_shared<Session>(client_id);
      sessions_[client_id] = out.session;
    }
    std::lock_guard slock(out.session->mutex);
    out.session->attached = true;
    out.session->principal = std::move(principal);
    out.session->owner = conn.get();
    out.session->connection = conn;
    out.session->flush_scheduled = false;
    out.session->connected_hint = true;
    ++out.session->generation;
  }
  if (old && !out.present) {
    // Clean start replaces the old session: its subscriptions go.
    std::vector<SubscriptionRecord> subs;
    std::vector<RoomWaiterPtr> waiters;
    {
      std::lock_guard slock(old->mutex);
      waiters = old->take_waiters(0, true);
      old->ended = true;
      old->attached = false;
      old->owner = nullptr;
      old->connection.reset();
      old->connected_hint = false;
      for (auto& [_, r] : old->subscriptions) subs.push_back(r);
      old->subscriptions.clear();
      old->queue.clear();
      old->inflight.clear();
    }
    tell(waiters);
    std::unique_lock tl(tree_mutex_);
    for (const auto& r : subs) tree_.remove(r.filter, r.group, old.get());
  }
  return out;
}

void Broker::detach(const SessionPtr& s, const Connection* conn, std::uint32_t expiry, MessagePtr will,
                    std::uint32_t will_delay) {
  std::uint64_t generation = 0;
  std::vector<RoomWaiterPtr> waiters;
  {
    std::lock_guard lock(s->mutex);
    if (s->owner != conn) {
      // Taken over. A resumed session cancels a delayed will (MQTT 5.0 3.1.3.2.2);
      // one replaced by a clean start has ended, so the will goes now.
      if (will && (s->ended || will_delay == 0)) {
        // fallthrough to publish below, outside the lock
      } else {
        will = nullptr;
      }
      generation = 0;
    } else {
      s->attached = false;
      s->owner = nullptr;
      s->connection.reset();
      s->connected_hint = false;
      s->flush_scheduled = false;
      s->expiry_interval = expiry;
      generation = ++s->generation;
      // QoS 0 messages are not kept for a detached session (4.1).
      s->queue.erase_if([](const Delivery& d) { return d.qos == 0; });
      waiters = s->take_waiters(0, true);  // offline: what does not fit is dropped
    }
  }
  tell(waiters);
  if (generation == 0) {
    if (will) publish(will);
    return;
  }
  if (expiry == 0) {
    end_session(s);
    if (will) publish(will);
    return;
  }
  auto self = shared_from_this();
  if (will) {
    if (will_delay == 0) {
      publish(will);
    } else {
      after(std::min(will_delay, expiry), [self, s, will, generation] {
        std::unique_lock lock(s->mutex);
        if (s->generation != generation) return;  // the client came back
        lock.unlock();
        self->publish(will);
      });
    }
  }
  if (expiry != 0xFFFFFFFF)
    after(expiry, [self, s, generation] {
      {
        std::lock_guard lock(s->mutex);
        if (s->generation != generation) return;
      }
      self->end_session(s);
    });
}

void Broker::end_session(const SessionPtr& s) {
  {
    std::lock_guard lock(sessions_mutex_);
    if (auto it = sessions_.find(s->client_id()); it != sessions_.end() && it->second == s) sessions_.erase(it);
  }
  std::vector<SubscriptionRecord> subs;
  std::vector<RoomWaiterPtr> waiters;
  {
    std::lock_guard lock(s->mutex);
    waiters = s->take_waiters(0, true);
    s->ended = true;
    for (auto& [_, r] : s->subscriptions) subs.push_back(r);
    s->subscriptions.clear();
    s->queue.clear();
    s->inflight.clear();
    s->inbound_qos2.clear();
  }
  tell(waiters);
  std::unique_lock tl(tree_mutex_);
  for (const auto& r : subs) tree_.remove(r.filter, r.group, s.get());
}

void Broker::after(std::uint32_t seconds, std::function<void()> f) {
  auto timer = std::make_shared<asio::steady_timer>(ex_, std::chrono::seconds(seconds));
  timer->async_wait([timer, f = std::move(f)](const boost::system::error_code& ec) {
    if (!ec) f();
  });
}

void Broker::store_retained(const MessagePtr& msg) {
  std::lock_guard lock(retained_mutex_);
  if (msg->payload->empty()) {
    retained_.erase(msg->topic);  // an empty retained message clears (3.3.1.3)
    return;
  }
  if (retained_.size() >= limits_.max_retained_messages && !retained_.contains(msg->topic)) return;
  retained_[msg->topic] = msg;
}

Routed Broker::publish(const MessagePtr& msg, const RoomWaiterPtr& waiter) {
  if (msg->retain) store_retained(msg);
  struct Target {
    SessionPtr session;
    Delivery delivery;
  };
  std::vector<Target> targets;
  {
    std::shared_lock lock(tree_mutex_);
    tree_.match(
        msg->topic,
        [&](const SessionPtr& s, const SubOptions& o, bool shared) {
          if (o.no_local && !shared && !msg->origin_client.empty() && s->client_id() == msg->origin_client)
            return;
          std::uint8_t qos = std::min(msg->qos, o.qos);
          bool retain = o.retain_as_published && msg->retain;
          for (auto& t : targets)
            if (t.session == s) {  // overlapping subscriptions: one copy, highest QoS
              t.delivery.qos = std::max(t.delivery.qos, qos);
              t.delivery.retain = t.delivery.retain || retain;
              if (o.subscription_id) t.delivery.subscription_ids.push_back(o.subscription_id);
              return;
            }
          Delivery d{msg, qos, retain, {}};
          if (o.subscription_id) d.subscription_ids.push_back(o.subscription_id);
          targets.push_back({s, std::move(d)});
        },
        [](const Session& s) { return s.connected_hint.load(std::memory_order_relaxed); });
  }
  Routed out{targets.size(), 0};
  for (auto& t : targets)
    if (offer(t.session, std::move(t.delivery), waiter) == Offered::waiting) ++out.waiting;
  return out;
}

Offered Broker::offer(const SessionPtr& s, Delivery d, const RoomWaiterPtr& waiter) {
  std::shared_ptr<Connection> wake, slow;
  Offered out = Offered::queued;
  {
    std::lock_guard lock(s->mutex);
    if (s->ended || (!s->attached && d.qos == 0)) return Offered::dropped;
    if (access_ && !d.msg->type.empty() && !access_->may_receive_type(s->principal, d.msg->type)) {
      ++s->withheld;
      return Offered::dropped;
    }
    if (s->queue.size() >= limits_.max_queued_messages) {
      if (d.qos == 0) {
        ++s->dropped_qos0;
        ++dropped_qos0_;
        return Offered::dropped;
      }
      // Waiting on one's own session would stall: its acks are not read meanwhile.
      if (!s->attached || !waiter || s->client_id() == d.msg->origin_client) {
        ++s->dropped;
        ++dropped_;
        return Offered::dropped;
      }
      s->waiters.push_back(waiter);
      ++publisher_waits_;
      out = Offered::waiting;
      if (!s->full_since) {
        s->full_since = Clock::now();
        slow = s->connection.lock();
      }
    }
    s->queue.push_back(std::move(d));
    if (s->attached && !s->flush_scheduled) {
      s->flush_scheduled = true;
      wake = s->connection.lock();
    }
  }
  if (wake) wake->schedule_flush();
  if (slow) slow->watch_slow();
  return out;
}

Broker::SubscribeOutcome Broker::subscribe(const SessionPtr& s, const SubscribeTopic& t,
                                           std::uint32_t subscription_id) {
  std::string_view group, filter;
  if (!split_shared(t.filter, group, filter) || !codec::valid_topic_filter(filter))
    return {reason::topic_filter_invalid};
  SubOptions o{std::min<std::uint8_t>(t.qos, 2), t.no_local, t.retain_as_published, t.retain_handling,
               subscription_id};
  bool fresh;
  {
    std::unique_lock lock(tree_mutex_);
    fresh = tree_.add(filter, group, s, o);
  }
  {
    std::lock_guard lock(s->mutex);
    s->subscriptions[t.filter] = SubscriptionRecord{std::string(filter), std::string(group), o};
  }
  // Retained messages are not sent for shared subscriptions (4.8.2).
  if (group.empty() && (o.retain_handling == 0 || (o.retain_handling == 1 && fresh)))
    deliver_retained(s, filter, o);
  return {o.qos};
}

void Broker::deliver_retained(const SessionPtr& s, std::string_view filter, const SubOptions& o) {
  std::vector<MessagePtr> matching;
  {
    std::lock_guard lock(retained_mutex_);
    for (const auto& [topic, msg] : retained_)
      if (codec::topic_matches(filter, topic)) matching.push_back(msg);
  }
  for (auto& msg : matching) {
    Delivery d{msg, std::min(msg->qos, o.qos), true, {}};
    if (o.subscription_id) d.subscription_ids.push_back(o.subscription_id);
    offer(s, std::move(d));
  }
}

bool Broker::unsubscribe(const SessionPtr& s, const std::string& full) {
  std::optional<SubscriptionRecord> record;
  {
    std::lock_guard lock(s->mutex);
    if (auto it = s->subscriptions.find(full); it != s->subscriptions.end()) {
      record = it->second;
      s->subscriptions.erase(it);
    }
  }
  if (!record) return false;
  std::unique_lock lock(tree_mutex_);
  tree_.remove(record->filter, record->group, s.get());
  return true;
}

BrokerStats Broker::stats() const {
  BrokerStats out;
  {
    std::lock_guard lock(sessions_mutex_);
    out.sessions = sessions_.size();
  }
  {
    std::shared_lock lock(tree_mutex_);
    out.subscriptions = tree_.size();
  }
  {
    std::lock_guard lock(retained_mutex_);
    out.retained = retained_.size();
  }
  out.dropped_qos0 = dropped_qos0_.load();
  out.dropped = dropped_.load();
  out.publisher_waits = publisher_waits_.load();
  return out;
}

}  // namespace evmesh::mqtt
