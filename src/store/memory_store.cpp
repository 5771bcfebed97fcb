#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "event_codec.h"
#include "evmesh/store/event_store.h"

namespace evmesh::store {
namespace {

class MemoryStore final : public EventStore {
 public:
  Result<std::uint64_t> append(std::span<const EventPtr> events) override {
    std::lock_guard lock(mutex_);
    // Never earlier than the previous append, so times grow with offsets.
    last_time_ = std::max(last_time_, std::chrono::system_clock::now());
    const auto first = first_ + log_.size();
    for (const auto& ev : events) {
      log_.push_back(ev);
      times_.push_back(last_time_);
    }
    count_batch(first, events);
    return last_offset_locked();
  }

  Result<std::vector<StoredEvent>> read(std::uint64_t after, std::size_t max) const override {
    std::lock_guard lock(mutex_);
    std::vector<StoredEvent> out;
    std::uint64_t from = std::max(after + 1, first_);
    for (std::uint64_t off = from; off < first_ + log_.size() && out.size() < max; ++off)
      out.push_back({off, log_[off - first_]});
    return out;
  }

  Result<void> commit(std::string_view consumer, std::uint64_t offset) override {
    std::lock_guard lock(mutex_);
    auto& cursor = cursors_[std::string(consumer)];
    cursor = std::max(cursor, offset);
    return {};
  }

  Result<void> rewind(std::string_view consumer, std::uint64_t offset) override {
    std::lock_guard lock(mutex_);
    cursors_[std::string(consumer)] = offset;
    return {};
  }

  Result<std::uint64_t> offset_at(std::chrono::system_clock::time_point t) const override {
    std::lock_guard lock(mutex_);
    return first_ + (std::lower_bound(times_.begin(), times_.end(), t) - times_.begin());
  }

  std::optional<std::uint64_t> cursor(std::string_view consumer) const override {
    std::lock_guard lock(mutex_);
    auto it = cursors_.find(consumer);
    if (it == cursors_.end()) return std::nullopt;
    return it->second;
  }

  Result<void> forget(std::string_view consumer) override {
    std::lock_guard lock(mutex_);
    if (auto it = cursors_.find(consumer); it != cursors_.end()) cursors_.erase(it);
    if (auto it = dead_.find(consumer); it != dead_.end()) dead_.erase(it);
    if (auto it = saved_.find(consumer); it != saved_.end()) saved_.erase(it);
    return {};
  }

  Result<void> save_subscription(std::string_view id, std::string_view spec) override {
    std::lock_guard lock(mutex_);
    saved_.insert_or_assign(std::string(id), std::string(spec));
    return {};
  }

  Result<void> erase_subscription(std::string_view id) override {
    std::lock_guard lock(mutex_);
    if (auto it = saved_.find(id); it != saved_.end()) saved_.erase(it);
    return {};
  }

  Result<std::vector<SavedSubscription>> saved_subscriptions() const override {
    std::lock_guard lock(mutex_);
    std::vector<SavedSubscription> out;
    for (const auto& [id, spec] : saved_) out.push_back({id, spec});
    return out;
  }

  Result<void> dlq_put(std::string_view consumer, std::uint64_t id, const EventPtr& ev) override {
    std::lock_guard lock(mutex_);
    dead_[std::string(consumer)][id] = ev;
    return {};
  }

  Result<std::vector<StoredEvent>> dlq_list(std::string_view consumer, std::uint64_t after,
                                            std::size_t max) const override {
    std::lock_guard lock(mutex_);
    std::vector<StoredEvent> out;
    auto queue = dead_.find(consumer);
    if (queue == dead_.end()) return out;
    for (auto it = queue->second.upper_bound(after); it != queue->second.end() && out.size() < max; ++it)
      out.push_back({it->first, it->second});
    return out;
  }

  Result<EventPtr> dlq_get(std::string_view consumer, std::uint64_t id) const override {
    std::lock_guard lock(mutex_);
    auto queue = dead_.find(consumer);
    if (queue != dead_.end()) {
      if (auto it = queue->second.find(id); it != queue->second.end()) return it->second;
    }
    return fail(Errc::not_found, "no dead letter " + std::to_string(id));
  }

  Result<bool> dlq_erase(std::string_view consumer, std::uint64_t id) override {
    std::lock_guard lock(mutex_);
    auto queue = dead_.find(consumer);
    return queue != dead_.end() && queue->second.erase(id) > 0;
  }

  Result<std::size_t> trim(std::uint64_t upto) override {
    std::lock_guard lock(mutex_);
    std::size_t dropped = 0;
    while (!log_.empty() && first_ <= upto) {
      log_.pop_front();
      times_.pop_front();
      ++first_;
      ++dropped;
    }
    forget_trimmed_batches();
    return dropped;
  }

  std::uint64_t bytes() const override {
    std::lock_guard lock(mutex_);
    return log_.empty() ? 0 : appended_bytes_ - batches_.front().bytes_before;
  }

  Result<std::uint64_t> offset_to_fit(std::uint64_t max_bytes) const override {
    std::lock_guard lock(mutex_);
    if (log_.empty() || appended_bytes_ - batches_.front().bytes_before <= max_bytes) return first_ - 1;
    for (const auto& batch : batches_) {
      if (appended_bytes_ - batch.bytes_before <= max_bytes) return batch.first - 1;
    }
    return last_offset_locked();
  }

  std::uint64_t last_offset() const override {
    std::lock_guard lock(mutex_);
    return last_offset_locked();
  }

  std::uint64_t first_offset() const override {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  std::uint64_t last_offset_locked() const { return first_ + log_.size() - 1; }

  // Size accounting per batch, as the embedded store does it (event_store.h).
  void count_batch(std::uint64_t first, std::span<const EventPtr> events) {
    if (events.empty()) return;
    batches_.push_back({first, appended_bytes_});
    for (const auto& ev : events) appended_bytes_ += detail::encoded_size(*ev);
  }
  void forget_trimmed_batches() {
    while (batches_.size() > 1 && batches_[1].first <= first_) batches_.pop_front();
    if (log_.empty()) batches_.clear();
  }

  mutable std::mutex mutex_;
  std::deque<EventPtr> log_;
  std::deque<std::chrono::system_clock::time_point> times_;  // append time, per event
  std::chrono::system_clock::time_point last_time_;
  std::uint64_t first_ = 1;  // offset of log_.front()
  std::map<std::string, std::uint64_t, std::less<>> cursors_;
  std::map<std::string, std::map<std::uint64_t, EventPtr>, std::less<>> dead_;
  struct Batch {
    std::uint64_t first;         // offset of its first event
    std::uint64_t bytes_before;  // appended_bytes_ before it
  };
  std::deque<Batch> batches_;  // those with a retained event, oldest first
  std::uint64_t appended_bytes_ = 0;
  std::map<std::string, std::string, std::less<>> saved_;  // saved subscriptions by id
};

}  // namespace

std::unique_ptr<EventStore> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace evmesh::store
