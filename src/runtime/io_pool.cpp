#include "evmesh/runtime/io_pool.h"

#include <algorithm>
#include <thread>

#include <boost/asio/post.hpp>

namespace evmesh {

namespace asio = boost::asio;

namespace {
thread_local asio::io_context* t_loop = nullptr;  // the loop this thread runs, if any
thread_local std::vector<std::function<void()>> t_round_end;

void run_loop(asio::io_context& loop) {
  t_loop = &loop;
  loop.run();
  t_loop = nullptr;
}

void run_round_end() {
  auto fns = std::move(t_round_end);
  t_round_end.clear();
  for (auto& fn : fns) fn();
}
}  // namespace

void at_round_end(std::function<void()> fn) {
  if (!t_loop) return fn();
  // Posted from the loop's own thread, it queues behind what the loop has ready.
  if (t_round_end.empty()) asio::post(*t_loop, run_round_end);
  t_round_end.push_back(std::move(fn));
}

bool LoopExecutor::on_io_thread() noexcept { return t_loop != nullptr; }

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
