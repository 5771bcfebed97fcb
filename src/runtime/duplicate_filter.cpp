#include "duplicate_filter.h"

namespace evmesh::detail {

DuplicateFilter::DuplicateFilter(std::chrono::milliseconds window, std::size_t max_keys)
    : window_(window), max_keys_(max_keys) {}

std::string DuplicateFilter::key_of(const Event& ev) {
  std::string key(ev.source());
  key.push_back('\0');
  key.append(ev.id());
  return key;
}

bool DuplicateFilter::first_time(const Event& ev, Clock::time_point now) {
  auto key = key_of(ev);
  std::lock_guard lock(mutex_);
  auto [at, inserted] = seen_.try_emplace(key, now);
  if (!inserted) {
    // A clock stepping back makes `now - at` negative: still a duplicate.
    if (now - at->second < window_) return false;
    at->second = now;  // seen before, but longer ago than the window
  }
  order_.emplace_back(now, std::move(key));
  evict(now);
  return true;
}

void DuplicateFilter::forget(const Event& ev, Clock::time_point at) {
  std::lock_guard lock(mutex_);
  if (auto it = seen_.find(key_of(ev)); it != seen_.end() && it->second == at) seen_.erase(it);
}

void DuplicateFilter::remember(std::string key, Clock::time_point at) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = seen_.try_emplace(key, at);
  if (!inserted) {
    if (it->second >= at) return;
    it->second = at;
  }
  order_.emplace_back(at, std::move(key));
  evict(Clock::now());
}

std::size_t DuplicateFilter::size() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

void DuplicateFilter::evict(Clock::time_point now) {
  while (!order_.empty() &&
         (order_.front().first + window_ <= now || order_.size() > max_keys_)) {
    auto& [at, key] = order_.front();
    if (auto it = seen_.find(key); it != seen_.end() && it->second == at) seen_.erase(it);
    order_.pop_front();
  }
}

}  // namespace evmesh::detail
