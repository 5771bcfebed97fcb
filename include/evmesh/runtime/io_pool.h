// IoPool: the I/O threads, one event loop (io_context) each, every loop run by
// exactly one thread. A connection is placed on a loop when it is accepted and
// stays there, so its handlers never take a scheduler lock another thread holds,
// and a reply is written by the thread that read the request instead of waking a
// second one. (One io_context shared by N threads cost ~30 us per MQTT round trip
// and ~15 % of the CPU in futex waits: docs/benchmarks.md.)
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/execution.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/require.hpp>

namespace evmesh {

// The executor of one loop of an IoPool. It differs from the loop's own executor in
// one way: a function it may run at once (blocking.possibly, as dispatch asks) runs
// at once on any I/O thread of the pool, not only on the loop's own thread. Wrapped
// in a strand, this lets a connection's handler run on the thread that has work for
// it, when the strand is free: an MQTT publisher's thread writes to a subscriber on
// another loop itself, instead of waking that loop's thread (a VM wake-up is tens of
// microseconds). The socket stays registered with its own loop, which runs what
// completes later.
class LoopExecutor {
 public:
  explicit LoopExecutor(boost::asio::io_context& loop, bool never_block = false) noexcept
      : loop_(&loop), never_block_(never_block) {}

  boost::asio::io_context& query(boost::asio::execution::context_t) const noexcept { return *loop_; }
  boost::asio::execution::blocking_t query(boost::asio::execution::blocking_t) const noexcept {
    return never_block_ ? boost::asio::execution::blocking_t(boost::asio::execution::blocking.never)
                        : boost::asio::execution::blocking_t(boost::asio::execution::blocking.possibly);
  }
  LoopExecutor require(boost::asio::execution::blocking_t::never_t) const noexcept {
    return LoopExecutor(*loop_, true);
  }
  LoopExecutor require(boost::asio::execution::blocking_t::possibly_t) const noexcept {
    return LoopExecutor(*loop_, false);
  }

  template <typename Function>
  void execute(Function&& f) const {
    if (!never_block_ && on_io_thread()) {
      std::forward<Function>(f)();
      return;
    }
    boost::asio::require(loop_->get_executor(), boost::asio::execution::blocking.never)
        .execute(std::forward<Function>(f));
  }

  friend bool operator==(const LoopExecutor& a, const LoopExecutor& b) noexcept {
    return a.loop_ == b.loop_ && a.never_block_ == b.never_block_;
  }
  friend bool operator!=(const LoopExecutor& a, const LoopExecutor& b) noexcept { return !(a == b); }

  // True on a thread running one of an IoPool's loops.
  static bool on_io_thread() noexcept;

 private:
  boost::asio::io_context* loop_;
  bool never_block_;
};

// Runs `fn` on this I/O thread after the handlers its loop has ready now, i.e. at
// the end of the current round of I/O; off an I/O thread, at once. Work that a
// round hands to another thread then goes across in one batch: the requests read
// in one round wake the delivery thread once, not once per event.
void at_round_end(std::function<void()> fn);

class IoPool {
 public:
  explicit IoPool(unsigned loops);
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // Loop 0: listeners' accept loops, timers, signals and control work.
  boost::asio::io_context& main() { return *loops_.front(); }
  // The executor for a new connection, on the next loop round-robin.
  LoopExecutor next();
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
