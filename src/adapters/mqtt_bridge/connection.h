// Connection: one Paho MQTT C++ client to an external broker, kept connected.
//
// Design note
//  - The session is persistent (MQTT 3.1.1 clean session 0; MQTT 5 clean start 0
//    with a session expiry), under a fixed client id: while we are away the broker
//    keeps our subscriptions and queues QoS 1 messages for us, and Paho resends our
//    un-acknowledged publishes after a reconnect.
//  - Paho's own automatic reconnect is off: it has no jitter, so many bridges (or
//    daemons) would reconnect in lock-step after a broker restart. A lost connection
//    or failed attempt schedules the next one with backoff_delay (exponential, full
//    jitter, capped at max_backoff), on the executor's timer.
//  - Every connect, the first and each reconnect, runs `on_connected` on a Paho
//    thread, where the owner (re)subscribes: a broker that lost its state (no
//    persistence) then still sends us what we asked for.
//
// Threading: start()/stop() from any thread, once each; stop() before the owner of
// the handlers goes away (a disconnected client calls no message handler).
// Handlers run on Paho threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mqtt/async_client.h>

#include "evmesh/control/config.h"

namespace evmesh::mqtt_bridge {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using MessageHandler = std::function<void(const mqtt::const_message_ptr&)>;
  using ConnectedHandler = std::function<void(mqtt::async_client&)>;

  // `role` ("in", "out") is appended to the bridge's client id and names the
  // connection in logs ("bridge plant/in"). Throws mqtt::exception when Paho
  // refuses the URL or client id (start-up only).
  Connection(boost::asio::any_io_executor ex, const control::MqttBridgeConfig& config,
             std::string role);
  ~Connection();

  // Set before start().
  void on_message(MessageHandler h) { message_handler_ = std::move(h); }
  void on_connected(ConnectedHandler h) { connected_handler_ = std::move(h); }

  void start();
  // Stops reconnecting and disconnects, waiting up to `grace` for the broker.
  void stop(std::chrono::milliseconds grace);

  mqtt::async_client& client() { return *client_; }
  // Keeps `p` alive as long as the client: Paho listeners must outlive it.
  void keep_alive(std::shared_ptr<void> p) { keep_alive_.push_back(std::move(p)); }
  bool connected() const { return client_->is_connected(); }
  const std::string& name() const { return name_; }
  int protocol_version() const { return config_.protocol_version; }

 private:
  class ConnectListener;
  void do_connect();
  void on_connect_failed(const std::string& why);
  void schedule_reconnect();

  const control::MqttBridgeConfig config_;
  const std::string name_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;  // on strand_
  std::unique_ptr<ConnectListener> listener_;
  std::vector<std::shared_ptr<void>> keep_alive_;  // set before start(); outlives client_
  std::unique_ptr<mqtt::async_client> client_;     // destroyed first: no callback after it
  mqtt::connect_options options_;
  MessageHandler message_handler_;
  ConnectedHandler connected_handler_;
  std::uint32_t failures_ = 0;  // on strand_: attempts since the last success
  std::mt19937_64 rng_{std::random_device{}()};
  std::atomic<bool> stopping_{false};
};

}  // namespace evmesh::mqtt_bridge
