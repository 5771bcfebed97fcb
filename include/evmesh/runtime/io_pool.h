// IoPool: the I/O threads, one event loop (io_context) each, every loop run by
// exactly one thread. A connection is placed on a loop when it is accepted and
// stays there, so its handlers never take a scheduler lock another thread holds,
// and a reply is written by the thread that read the request instead of waking a
// second one. (One io_context shared by N threads cost ~30 us per MQTT round trip
// and ~15 % of the CPU in futex waits: docs/benchmarks.md.)
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace evmesh {

class IoPool {
 public:
  explicit IoPool(unsigned loops);
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Loop 0: listeners' accept loops, timers, signals and control work.
  boost::asio::io_context& main() { return *loops_.front(); }
  // The loop for a new connection, round-robin.
  boost::asio::io_context& next();
  std::size_t size() const { return loops_.size(); }

  // Runs loops 1..n-1 on threads of their own and loop 0 on the caller; returns
  // once stop() has ended them all.
  void run();
  // Ends every loop after the handlers already posted to it (e.g. socket closes).
  void stop();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<Guard> work_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace evmesh
