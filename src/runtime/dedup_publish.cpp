// Runtime: publishing with duplicate suppression on (duplicate_filter.h).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "duplicate_filter.h"
#include "evmesh/runtime/runtime.h"

namespace evmesh {

std::optional<Result<PublishReceipt>> Runtime::publish_once(std::span<const EventPtr> events,
                                                            const DeferPublish& defer) {
  struct Fresh {
    std::vector<EventPtr> events;  // seen for the first time
    detail::DuplicateFilter::Clock::time_point at = detail::DuplicateFilter::Clock::now();
  };
  auto fresh = std::make_shared<Fresh>();
  for (const auto& ev : events)
    if (dedup_->first_time(*ev, fresh->at)) fresh->events.push_back(ev);
  // The receipt counts every event; a failure forgets the keys so that a retry is
  // not taken for a duplicate.
  auto account = [filter = dedup_.get(), fresh, total = events.size()](Result<PublishReceipt> r) {
    if (!r) {
      for (const auto& ev : fresh->events) filter->forget(*ev, fresh->at);
      return r;
    }
    r->duplicates = total - fresh->events.size();
    r->events = total;
    return r;
  };
  const DeferPublish deferred = [&defer, account] {
    return [done = defer(), account](Result<PublishReceipt> r) { done(account(std::move(r))); };
  };
  // Even with every event a duplicate: a shutting-down broker still says so.
  if (auto now = route_events(fresh->events, deferred)) return account(std::move(*now));
  return std::nullopt;
}

void Runtime::restore_duplicate_keys() {
  // The log records append times per batch, not per event: the keys count as seen
  // now, so after a restart they are suppressed for up to one window longer.
  const auto now = detail::DuplicateFilter::Clock::now();
  auto from = store_->offset_at(now - options_.dedup_window);
  if (!from) return spdlog::warn("duplicate suppression: cannot read the log: {}", from.error().message);
  const auto last = store_->last_offset();
  auto after = std::max(*from - 1, last - std::min<std::uint64_t>(last, options_.dedup_max_keys));
  std::size_t restored = 0;
  while (after < last) {
    auto page = store_->read(after, 1024);
    if (!page) return spdlog::warn("duplicate suppression: cannot read the log: {}", page.error().message);
    if (page->empty()) break;
    for (const auto& stored : *page) dedup_->remember(detail::DuplicateFilter::key_of(*stored.event), now);
    restored += page->size();
    after = page->back().offset;
  }
  if (restored) spdlog::info("duplicate suppression: {} keys restored from the event store", restored);
}

}  // namespace evmesh
