#include "evmesh/runtime/io_pool.h"

#include <algorithm>
#include <thread>

#include <boost/asio/post.hpp>

namespace evmesh {

namespace asio = boost::asio;

namespace {
thread_local bool t_on_io_thread = false;

void run_loop(asio::io_context& loop) {
  t_on_io_thread = true;
  loop.run();
  t_on_io_thread = false;
}
}  // namespace

bool LoopExecutor::on_io_thread() noexcept { return t_on_io_thread; }

IoPool::IoPool(unsigned loops) {
  loops = std::max(1u, loops);
  for (unsigned i = 0; i < loops; ++i) {
    loops_.push_back(std::make_unique<asio::io_context>(1));  // one thread per loop
    work_.push_back(asio::make_work_guard(*loops_.back()));
  }
}

LoopExecutor IoPool::next() {
  return LoopExecutor(*loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]);
}

void IoPool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([loop = loops_[i].get()] { run_loop(*loop); });
  run_loop(*loops_.front());
  for (auto& t : threads) t.join();
}

void IoPool::stop() {
  for (auto& w : work_) w.reset();
  for (auto& loop : loops_) asio::post(*loop, [loop = loop.get()] { loop->stop(); });
}

}  // namespace evmesh
