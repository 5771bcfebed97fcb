#include "evmesh/runtime/io_pool.h"

#include <algorithm>
#include <thread>

#include <boost/asio/post.hpp>

namespace evmesh {

namespace asio = boost::asio;

IoPool::IoPool(unsigned loops) {
  loops = std::max(1u, loops);
  for (unsigned i = 0; i < loops; ++i) {
    loops_.push_back(std::make_unique<asio::io_context>(1));  // one thread per loop
    work_.push_back(asio::make_work_guard(*loops_.back()));
  }
}

asio::io_context& IoPool::next() {
  return *loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void IoPool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([loop = loops_[i].get()] { loop->run(); });
  loops_.front()->run();
  for (auto& t : threads) t.join();
}

void IoPool::stop() {
  for (auto& w : work_) w.reset();
  for (auto& loop : loops_) asio::post(*loop, [loop = loop.get()] { loop->stop(); });
}

}  // namespace evmesh
