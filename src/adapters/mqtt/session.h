// Session state (MQTT 5.0 4.1): what outlives a network connection when the client
// asked for it — subscriptions, QoS 1/2 messages not yet acknowledged or not yet
// sent, and the packet identifiers of QoS 2 messages received but not released.
//
// Guarded by its own mutex: the publisher's thread adds deliveries, the owning
// connection's strand sends and acknowledges them. The connection is a weak
// reference; a detached session queues QoS 1/2 (bounded) and drops QoS 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "message.h"
#include "topic_tree.h"

namespace evmesh::mqtt {

class Connection;

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
  std::deque<Delivery> queue;                 // not sent yet
  std::map<std::uint16_t, Inflight> inflight;  // sent, not acknowledged
  std::set<std::uint16_t> inbound_qos2;       // PUBREC sent, PUBREL awaited
  std::weak_ptr<Connection> connection;
  bool attached = false;
  const void* owner = nullptr;    // the attached Connection, compared never dereferenced
  bool ended = false;             // removed from the broker (clean start, expiry)
  bool flush_scheduled = false;
  std::uint64_t generation = 0;   // bumped on every attach/detach: stale timers give up
  std::uint32_t expiry_interval = 0;
  std::uint64_t dropped = 0;      // deliveries refused because the queue was full
  std::uint64_t withheld = 0;     // deliveries the ACL refused (type not subscribable)
  std::string principal;          // who the last CONNECT authenticated as (ACL checks)

  // Next free packet identifier for an outgoing QoS 1/2 message; 0 when all 65535
  // are in flight. Caller holds `mutex`.
  std::uint16_t next_packet_id();

  std::atomic<bool> connected_hint{false};  // read by shared-group choice without the lock

 private:
  std::string client_id_;
  std::uint16_t last_id_ = 0;
};

}  // namespace evmesh::mqtt
