// Session state (MQTT 5.0 4.1): what outlives a network connection when the client
// asked for it — subscriptions, QoS 1/2 messages not yet acknowledged or not yet
// sent, and the packet identifiers of QoS 2 messages received but not released.
//
// Guarded by its own mutex: the publisher's thread adds deliveries, the owning
// connection's strand sends and acknowledges them. The connection is a weak
// reference; a detached session queues QoS 1/2 (bounded) and drops QoS 0.
//
// Backpressure (docs/protocols.md, "Slow subscribers"): the queue holds at most
// max_queued_messages. A QoS 1/2 delivery to a connected session whose queue is
// full is queued anyway (one per waiting publisher: the bound is soft by at most
// the number of publishers) and its publisher waits for room (RoomWaiter) — it
// stops reading its socket. Waiters are told once the queue has drained to half,
// or the session detaches or ends. A queue that stays full past
// slow_subscriber_timeout disconnects its client (0x97), which frees them.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lazy.h"
#include "message.h"
#include "topic_tree.h"

namespace evmesh::mqtt {

class Connection;

// Someone who published into a full session queue and waits for room: a publishing
// connection that stopped reading, or the mesh sink holding back its ack. room() is
// called exactly once per registration, on any thread, without a session lock.
class RoomWaiter {
 public:
  virtual ~RoomWaiter() = default;
  virtual void room() = 0;
};
using RoomWaiterPtr = std::shared_ptr<RoomWaiter>;

// The deliveries a session has not sent yet. An empty std::deque already holds a
// block of ~600 bytes; most sessions (idle devices, publishers) never queue, so the
// deque exists only from the first delivery on.
class DeliveryQueue {
 public:
  bool empty() const { return !q_ || q_->empty(); }
  std::size_t size() const { return q_ ? q_->size() : 0; }
  Delivery& front() { return q_->front(); }
  void pop_front() { q_->pop_front(); }
  void push_back(Delivery d) {
    if (!q_) q_ = std::make_unique<std::deque<Delivery>>();
    q_->push_back(std::move(d));
  }
  void clear() { q_.reset(); }
  // Gives the block back once drained: a subscriber that goes quiet holds nothing.
  void release_if_empty() {
    if (q_ && q_->empty()) q_.reset();
  }
  template <typename Pred>
  void erase_if(Pred pred) {
    if (q_) std::erase_if(*q_, pred);
  }

 private:
  std::unique_ptr<std::deque<Delivery>> q_;
};

struct Inflight {
  Delivery delivery;
  bool released = false;  // QoS 2: PUBREC received, PUBREL sent
};

struct SubscriptionRecord {
  std::string filter;  // without the $share/ prefix
  std::string group;   // empty unless shared
  SubOptions options;
};

class Session {
 public:
  explicit Session(std::string client_id) : client_id_(std::move(client_id)) {}
  const std::string& client_id() const { return client_id_; }

  std::mutex mutex;
  // All below guarded by `mutex`.
  std::map<std::string, SubscriptionRecord> subscriptions;  // key: the filter as subscribed
  DeliveryQueue queue;                        // not sent yet
  Lazy<std::map<std::uint16_t, Inflight>> inflight;  // sent, not acknowledged
  Lazy<std::set<std::uint16_t>> inbound_qos2;       // PUBREC sent, PUBREL awaited
  std::weak_ptr<Connection> connection;
  const void* owner = nullptr;    // the attached Connection, compared never dereferenced
  std::uint64_t generation = 0;   // bumped on every attach/detach: stale timers give up
  // (Small fields together: every connection has a session, its size counts.)
  bool attached = false;
  bool ended = false;             // removed from the broker (clean start, expiry)
  bool flush_scheduled = false;
  std::atomic<bool> connected_hint{false};  // read by shared-group choice without the lock
  std::uint32_t expiry_interval = 0;
  std::uint64_t dropped = 0;      // QoS 1/2 refused because the queue was full (offline, no waiter)
  std::uint64_t dropped_qos0 = 0; // QoS 0 refused because the queue was full (overload)
  std::vector<RoomWaiterPtr> waiters;             // publishers waiting for room
  std::optional<Clock::time_point> full_since;    // a publisher waits since; cleared at half
  std::uint64_t withheld = 0;     // deliveries the ACL refused (type not subscribable)
  std::string principal;          // who the last CONNECT authenticated as (ACL checks)

  // Next free packet identifier for an outgoing QoS 1/2 message; 0 when all 65535
  // are in flight. Caller holds `mutex`.
  std::uint16_t next_packet_id();

  // Caller holds `mutex`. The waiters to tell (outside the lock) when the queue is
  // at most `low_water` long, or `always` (detached, ended); clears full_since then.
  std::vector<RoomWaiterPtr> take_waiters(std::size_t low_water, bool always = false);

 private:
  std::uint16_t last_id_ = 0;
  std::string client_id_;
};

}  // namespace evmesh::mqtt
