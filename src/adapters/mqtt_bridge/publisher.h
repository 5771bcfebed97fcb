// Publisher: the outbound half of a bridge. Publishes at QoS 1 on the bridge's
// "-out" connection and reports each publish once: delivered on PUBACK, retry when
// the bridge is not connected, has max_in_flight publishes outstanding, or no PUBACK
// came within the timeout (Paho may still deliver it later: at least once, a
// duplicate is possible), permanent when an MQTT 5 broker refuses it for good
// (not authorized, bad topic, payload format, too large).
//
// The dispatcher owns retries, backoff and dead-lettering, so an event is never
// dropped here while the broker is down: it waits in its subscription's queue.
//
// Threading: publish() from any thread; `done` runs on a Paho thread or the
// executor. Deadlines are checked by one periodic sweep on the executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "connection.h"
#include "evmesh/codec/mqtt_binding.h"
#include "evmesh/core/sink.h"

namespace evmesh::mqtt_bridge {

class Publisher : public std::enable_shared_from_this<Publisher> {
 public:
  using Done = std::function<void(DeliveryOutcome)>;
  Publisher(boost::asio::any_io_executor ex, std::shared_ptr<Connection> connection);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void start();  // before the first publish: installs the listener, starts the deadline sweep
  void publish(codec::MqttMessage&& msg, std::chrono::milliseconds timeout, Done done);
  // Completes every outstanding publish with a retry outcome; later ones fail fast.
  void stop();

  const std::shared_ptr<Connection>& connection() const { return connection_; }

 private:
  class Listener;
  struct Pending {
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };
  void complete(std::uint64_t seq, DeliveryOutcome outcome);
  void sweep();

  std::shared_ptr<Connection> connection_;
  boost::asio::steady_timer sweep_timer_;
  std::shared_ptr<Listener> listener_;  // set by start()
  std::mutex mutex_;
  std::map<std::uint64_t, Pending> pending_;  // by sequence number (the Paho user context)
  std::uint64_t next_seq_ = 1;
  bool stopped_ = false;
};

}  // namespace evmesh::mqtt_bridge
