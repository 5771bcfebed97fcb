#include "committer.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

namespace evmesh::detail {

Committer::Committer(store::EventStore& store, std::shared_ptr<RouteTable> table,
                     std::chrono::milliseconds cursor_interval, Retention retention)
    : store_(store), table_(std::move(table)), cursor_interval_(cursor_interval), retention_(retention),
      routed_upto_(store.last_offset()) {
  thread_ = std::thread([this] { run(); });
}

Committer::~Committer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (auto& p : queue_) {
    for (auto [e, d] : p.plan) d->release();
    p.done(fail(Errc::shutting_down, "the broker is shutting down"));
  }
  commit_cursors();
}

void Committer::submit(PendingPublish publish) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(publish));
  }
  wake_.notify_one();
}

void Committer::run() {
  auto next_cursor_commit = std::chrono::steady_clock::now() + cursor_interval_;
  std::vector<PendingPublish> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_cursor_commit, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    if (!batch.empty()) commit_batch(batch);
    batch.clear();
    if (std::chrono::steady_clock::now() >= next_cursor_commit) {
      commit_cursors();
      next_cursor_commit = std::chrono::steady_clock::now() + cursor_interval_;
    }
  }
}

void Committer::commit_batch(std::vector<PendingPublish>& batch) {
  // The events some durable dispatcher wants, each once; `index` maps (publish,
  // event) to its position in `stored` (or npos).
  constexpr auto npos = std::numeric_limits<std::size_t>::max();
  std::vector<EventPtr> stored;
  std::vector<std::vector<std::size_t>> index(batch.size());
  for (std::size_t p = 0; p < batch.size(); ++p) {
    index[p].assign(batch[p].events.size(), npos);
    for (auto [e, d] : batch[p].plan) {
      if (!d->durable() || index[p][e] != npos) continue;
      index[p][e] = stored.size();
      stored.push_back(batch[p].events[e]);
    }
  }
  auto room = check_room();
  auto last = room ? store_.append(stored) : Result<std::uint64_t>(std::unexpected(room.error()));
  if (!last) {
    for (auto& p : batch) {
      for (auto [e, d] : p.plan) d->release();
      p.done(std::unexpected(last.error()));
    }
    return;
  }
  const std::uint64_t first = *last - stored.size() + 1;
  const auto now = Dispatcher::Clock::now();
  for (std::size_t p = 0; p < batch.size(); ++p) {
    for (auto [e, d] : batch[p].plan)
      d->push(batch[p].events[e], now, d->durable() ? first + index[p][e] : 0);
  }
  routed_upto_.store(*last, std::memory_order_release);
  for (auto& p : batch) p.done(PublishReceipt{p.events.size(), p.plan.size()});
}

void Committer::rewound(const std::string& id) {
  std::lock_guard lock(cursor_mutex_);
  committed_.erase(id);
}

void Committer::commit_cursors() {
  // The write mutex: a durable route being created reads its backlog under it, so
  // the log is not trimmed below a cursor this loop does not see yet.
  std::scoped_lock lock(cursor_mutex_, table_->write_mutex());
  // Read before the dispatchers: each has every offset <= upto in its pending set.
  const auto upto = routed_upto();
  auto lowest = upto;
  slowest_.clear();
  for (const auto& route : table_->snapshot()->routes()) {
    if (!route->dispatcher->durable()) continue;
    const auto cursor = route->dispatcher->durable_cursor(upto);
    if (cursor < lowest) slowest_ = route->sub.id;
    lowest = std::min(lowest, cursor);
    auto& written = committed_[route->sub.id];
    if (cursor <= written) continue;
    const auto key = "cursor " + route->sub.id;
    if (auto ok = store_.commit(route->sub.id, cursor); !ok) {
      failures_.failed(key, fmt::format("subscription {}: cannot commit cursor {}: {}", route->sub.id, cursor,
                                        ok.error().message));
      continue;
    }
    failures_.succeeded(key);
    written = cursor;
  }
  if (trim_held_.load(std::memory_order_acquire)) return;
  const auto trim_to = trim_point(lowest);
  if (trim_to >= store_.first_offset()) {
    if (auto trimmed = store_.trim(trim_to); !trimmed)
      failures_.failed("trim", fmt::format("event store: cannot trim up to {}: {}", trim_to, trimmed.error().message));
    else
      failures_.succeeded("trim");
  }
}

std::uint64_t Committer::trim_point(std::uint64_t settled) {
  // Every durable subscription is past `settled`: nothing below it is needed again,
  // except for replay what the retention period keeps.
  auto upto = settled;
  if (retention_.age.count() > 0) {
    auto kept = store_.offset_at(std::chrono::system_clock::now() - retention_.age);
    if (!kept) {
      failures_.failed("retention", fmt::format("event store: cannot apply retention: {}", kept.error().message));
      return 0;
    }
    failures_.succeeded("retention");
    upto = std::min(upto, *kept - 1);
  }
  // Over the size cap, settled events go early, oldest first; unsettled ones never.
  if (retention_.bytes > 0) {
    auto fit = store_.offset_to_fit(retention_.bytes);
    if (!fit) {
      failures_.failed("retention_bytes",
                       fmt::format("event store: cannot apply retention_bytes: {}", fit.error().message));
      return upto;
    }
    failures_.succeeded("retention_bytes");
    upto = std::max(upto, std::min(*fit, settled));
  }
  return upto;
}

Result<void> Committer::check_room() {
  // Over the cap, not at it: trimming cuts down to it (offset_to_fit), so a log
  // of settled events exactly at the cap still takes appends.
  if (retention_.bytes == 0 || store_.bytes() <= retention_.bytes) return {};
  commit_cursors();  // trims what has been settled since the last round
  const auto bytes = store_.bytes();
  if (bytes <= retention_.bytes) return {};
  std::lock_guard lock(cursor_mutex_);
  const auto who = slowest_.empty() ? std::string("durable subscriptions have")
                                    : "subscription '" + slowest_ + "' has";
  return fail(Errc::unavailable, "the event store is full: its events take " + std::to_string(bytes) +
                                     " bytes of store.retention_bytes (" +
                                     std::to_string(retention_.bytes) + ") and " + who +
                                     " not settled them yet");
}

}  // namespace evmesh::detail
