// KeepaliveWheel: the keep-alive and connect-timeout deadlines of every MQTT
// connection on one timer, so an idle connection costs a slot entry (a weak_ptr)
// instead of a timer and a pending wait of its own (~300 bytes).
//
// Slots are kTick wide. add() files a connection under the slot of its deadline; a
// tick hands every connection whose slot has come to Connection::keepalive_due(),
// which checks its current deadline on its own strand (it may have moved on: then
// the connection files itself again). Precision: a deadline fires up to one kTick
// late. The timer runs only while slots are filled. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "message.h"

namespace evmesh::mqtt {

class Connection;

class KeepaliveWheel : public std::enable_shared_from_this<KeepaliveWheel> {
 public:
  static constexpr std::chrono::milliseconds kTick{250};

  // `ex` should be a strand: the timer is touched only there.
  explicit KeepaliveWheel(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}

  // Any thread: calls keepalive_due() on `c` at the first tick at or after `due`.
  void add(std::weak_ptr<Connection> c, Clock::time_point due);
  // Any thread: no more ticks (the server stops).
  void stop();

 private:
  void tick();  // on the timer's executor

  std::mutex mutex_;
  std::map<std::int64_t, std::vector<std::weak_ptr<Connection>>> slots_;  // key: slot number
  bool ticking_ = false;
  bool stopped_ = false;
  boost::asio::steady_timer timer_;
};

}  // namespace evmesh::mqtt
