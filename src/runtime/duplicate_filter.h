// DuplicateFilter: optional duplicate suppression at ingress (docs/delivery.md#duplicate-suppression).
// An event whose `source` and `id` were published before, within `window`, is a
// duplicate: the publisher gets the usual ack, no subscription gets it again.
//
// Memory is bounded: a key is kept for `window` after its first publish, and at most
// `max_keys` are kept (beyond that the oldest are forgotten early, so a duplicate of
// one of them would be delivered again: the filter errs towards at-least-once).
// A publish that fails (queue full, store full, rejected) forgets its keys, so the
// publisher's retry is not taken for a duplicate.
//
// Threading: every method may be called from any thread (one mutex; publishes only
// pay for it when duplicate suppression is on).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "evmesh/core/event.h"

namespace evmesh::detail {

class DuplicateFilter {
 public:
  using Clock = std::chrono::system_clock;

  DuplicateFilter(std::chrono::milliseconds window, std::size_t max_keys);

  // True, and records the key at `now`, when `ev` is not a duplicate.
  bool first_time(const Event& ev, Clock::time_point now);
  // Forgets `ev`'s key (its publish failed). Only a key recorded at `at` is
  // forgotten, so a newer publish of the same key is kept.
  void forget(const Event& ev, Clock::time_point at);
  // Records a key seen at `at` (restoring the keys of durable events after a restart).
  void remember(std::string key, Clock::time_point at);

  // `source` and `id` joined; a source holds no NUL, so keys are unambiguous.
  static std::string key_of(const Event& ev);
  std::size_t size() const;

 private:
  // Drops keys older than the window, then the oldest beyond max_keys.
  void evict(Clock::time_point now);

  const std::chrono::milliseconds window_;
  const std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> seen_;
  // Keys in the order they were recorded; an entry whose time no longer matches
  // seen_ is stale (forgotten or recorded again) and is skipped.
  std::deque<std::pair<Clock::time_point, std::string>> order_;
};

}  // namespace evmesh::detail
