// Broker: the shared state of the MQTT listener — sessions by client id, the
// subscription trie, retained messages — and the routing of one message to every
// matching session. Any thread.
//
// Lock order: sessions_mutex_ -> Session::mutex; tree_mutex_ and retained_mutex_ are
// never held while taking another lock (route() collects targets, unlocks, offers).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "evmesh/control/access_control.h"
#include "message.h"
#include "session.h"
#include "topic_tree.h"

namespace evmesh::mqtt {

struct BrokerLimits {
  std::size_t max_queued_messages = 1000;      // per session, not yet sent
  // A connected session whose queue stays full this long (publishers waiting on
  // it) is disconnected with 0x97 (session.h, docs/protocols.md).
  std::chrono::milliseconds slow_subscriber_timeout{30'000};
  std::uint32_t max_session_expiry = 86'400;   // seconds; also what 3.1.1 clean_session=0 gets
  std::size_t max_retained_messages = 100'000;
};

struct BrokerStats {
  std::size_t sessions = 0;
  std::size_t subscriptions = 0;
  std::size_t retained = 0;
  std::uint64_t dropped_qos0 = 0;     // QoS 0 deliveries dropped: subscriber queue full
  std::uint64_t dropped = 0;          // QoS 1/2 dropped: offline session's queue full
  std::uint64_t publisher_waits = 0;  // times a publisher waited for a full queue
};

// What Broker::offer did with one delivery.
enum class Offered { queued, waiting, dropped };
struct Routed {
  std::size_t offered = 0;  // sessions the message was offered to
  std::size_t waiting = 0;  // of them, full ones the waiter was registered with
};

class Broker : public std::enable_shared_from_this<Broker> {
 public:
  // `access` (may be null: no checks) decides which message types a session's
  // principal may receive; it must outlive the broker.
  Broker(boost::asio::any_io_executor ex, BrokerLimits limits, const control::AccessControl* access = nullptr);

  struct Attached {
    SessionPtr session;
    bool present = false;                    // an existing session was resumed
    std::shared_ptr<Connection> previous;    // a connection to take over from (tell it)
  };
  // CONNECT accepted: finds or (re)creates the session for `client_id`.
  Attached attach(const std::string& client_id, bool clean_start, const std::shared_ptr<Connection>& conn,
                  std::string principal = {});

  // The connection ended. `expiry` in seconds (0 = the session ends now). `will`
  // (may be null) is published after `will_delay` unless the client returns first.
  void detach(const SessionPtr& s, const Connection* conn, std::uint32_t expiry, MessagePtr will,
              std::uint32_t will_delay);

  // Stores or clears the retained message (when msg->retain) and routes it.
  // `waiter` (may be null) is the publisher: registered with every full session that
  // queued a QoS 1/2 delivery anyway (Routed::waiting), it gets room() once per
  // registration and should publish nothing more until then.
  Routed publish(const MessagePtr& msg, const RoomWaiterPtr& waiter = nullptr);

  struct SubscribeOutcome {
    std::uint8_t reason = 0;  // granted QoS or a failure reason code
  };
  SubscribeOutcome subscribe(const SessionPtr& s, const SubscribeTopic& t, std::uint32_t subscription_id);
  // Returns true when the subscription existed.
  bool unsubscribe(const SessionPtr& s, const std::string& filter);

  // Queues one delivery on a session and wakes its connection; withholds (counted
  // by AccessControl) a typed message the session's principal may not receive.
  // A full queue (session.h): QoS 0 is dropped; QoS 1/2 waits (see publish()) when
  // the session is connected, `waiter` is set and is not the session's own client,
  // else it is dropped. Every drop is counted (stats()).
  Offered offer(const SessionPtr& s, Delivery d, const RoomWaiterPtr& waiter = nullptr);

  BrokerStats stats() const;
  const BrokerLimits& limits() const { return limits_; }

 private:
  void end_session(const SessionPtr& s);  // sessions_mutex_ not held
  void store_retained(const MessagePtr& msg);
  void deliver_retained(const SessionPtr& s, std::string_view filter, const SubOptions& o);
  void after(std::uint32_t seconds, std::function<void()> f);

  boost::asio::any_io_executor ex_;
  BrokerLimits limits_;
  const control::AccessControl* access_;
  mutable std::mutex sessions_mutex_;
  std::unordered_map<std::string, SessionPtr> sessions_;
  mutable std::shared_mutex tree_mutex_;
  TopicTree tree_;
  mutable std::mutex retained_mutex_;
  std::unordered_map<std::string, MessagePtr> retained_;
  std::atomic<std::uint64_t> dropped_qos0_{0}, dropped_{0}, publisher_waits_{0};
};

}  // namespace evmesh::mqtt
