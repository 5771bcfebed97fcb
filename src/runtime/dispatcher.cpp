#include "evmesh/runtime/dispatcher.h"

#include <algorithm>
#include <iterator>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "evmesh/core/timestamp.h"
#include "evmesh/runtime/io_pool.h"

namespace evmesh {
namespace {

namespace asio = boost::asio;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto l = spdlog::get("delivery");
    return l ? l : spdlog::default_logger()->clone("delivery");
  }();
  return logger;
}

// Attribute values must be valid CloudEvents strings: keep printable text only.
std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out.push_back(c < 0x20 || c == 0x7F ? ' ' : static_cast<char>(c));
  return out;
}

// Retry jitter. One engine per thread, not per dispatcher: an mt19937_64 is 2.5 KB
// and seeding one costs a system call, which dominated memory and time at 100k
// subscriptions.
std::mt19937_64& jitter_rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace

Dispatcher::Dispatcher(asio::any_io_executor ex, std::string subscription_id, DeliveryPolicy policy,
                       std::shared_ptr<Sink> sink, std::shared_ptr<Sink> dead_letter,
                       store::EventStore* store)
    : strand_(asio::make_strand(ex)),
      id_(std::move(subscription_id)),
      policy_(std::move(policy)),
      sink_(std::move(sink)),
      dead_letter_(std::move(dead_letter)),
      store_(store),
      window_(policy_.concurrency == 1 && sink_ ? std::max<std::size_t>(1, sink_->ordered_window()) : 1) {}

bool Dispatcher::try_reserve() {
  auto current = reserved_.load(std::memory_order_relaxed);
  while (current < policy_.queue_capacity) {
    if (reserved_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel))
      return true;
  }
  return false;
}

void Dispatcher::release() { reserved_.fetch_sub(1, std::memory_order_acq_rel); }

void Dispatcher::force_reserve() { reserved_.fetch_add(1, std::memory_order_acq_rel); }

void Dispatcher::push(EventPtr ev, Clock::time_point accepted, std::uint64_t offset) {
  queued_.fetch_add(1, std::memory_order_relaxed);
  if (offset) {
    std::lock_guard lock(pending_mutex_);
    pending_.insert(offset);
  }
  bool post_drain;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back({std::move(ev), accepted, offset});
    post_drain = !std::exchange(drain_posted_, true);
  }
  if (post_drain)
    at_round_end([self = shared_from_this()] {
      asio::post(self->strand_, [self] { self->drain_inbox(); });
    });
}

void Dispatcher::drain_inbox() {
  {
    std::lock_guard lock(inbox_mutex_);
    draining_.swap(inbox_);
    drain_posted_ = false;
  }
  for (auto& [ev, accepted, offset] : draining_) {
    if (stopped_) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      release();
      continue;
    }
    queue_.push_back(make_item(std::move(ev), accepted, offset, 0));
  }
  draining_.clear();
  pump();
}

void Dispatcher::pump() {
  while (!stopped_ && !held_ && in_flight_ < limit() && !queue_.empty()) {
    auto item = std::move(queue_.front());
    queue_.pop_front();
    queued_.fetch_sub(1, std::memory_order_relaxed);
    ++in_flight_;
    in_flight_count_.fetch_add(1, std::memory_order_relaxed);
    attempt(std::move(item));
  }
}

std::shared_ptr<Dispatcher::Item> Dispatcher::make_item(EventPtr ev, Clock::time_point accepted,
                                                       std::uint64_t offset, std::uint64_t dlq_id) {
  auto item = std::make_shared<Item>(Item{std::move(ev), accepted, 0, false, offset, dlq_id});
  // An expirytime that is no valid timestamp never expires: the event is delivered
  // as published rather than lost over a malformed extension. A redrive is an
  // explicit request to deliver, so it ignores the expiry it may have died of.
  if (auto at = item->ev->attribute("expirytime"); at && !dlq_id)
    item->expires = parse_timestamp(*at).value_or(std::chrono::system_clock::time_point::max());
  return item;
}

void Dispatcher::attempt(std::shared_ptr<Item> item) {
  constexpr auto kNever = std::chrono::system_clock::time_point::max();
  if (!item->dead_lettering && item->expires != kNever && std::chrono::system_clock::now() >= item->expires)
    return expire(std::move(item));
  ++item->attempts;
  if (window_ > 1 && !item->dead_lettering) {
    ordered_.push_back(item);
    // dispatch, not post: the sink answers on a delivery thread, and running the
    // outcome there at once (when the strand is free) saves a pass through the
    // event loop per answer. It may send again from inside `done` (sink.h).
    sink_->send_ordered(item->ev, [self = shared_from_this(), item](DeliveryOutcome outcome) mutable {
      asio::dispatch(self->strand_, [self, item = std::move(item), outcome = std::move(outcome)]() mutable {
        self->on_ordered_outcome(std::move(item), std::move(outcome));
      });
    });
    return;
  }
  auto& sink = item->dead_lettering ? dead_letter_ : sink_;
  sink->send(item->ev, [self = shared_from_this(), item](DeliveryOutcome outcome) mutable {
    asio::post(self->strand_, [self, item = std::move(item), outcome = std::move(outcome)]() mutable {
      self->on_outcome(std::move(item), std::move(outcome));
    });
  });
}

void Dispatcher::on_ordered_outcome(std::shared_ptr<Item> item, DeliveryOutcome outcome) {
  ordered_.pop_front();  // == item: the sink answers in send order
  if (stopped_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    finish_one();
    if (failed_head_ && ordered_.empty()) {
      failed_head_.reset();
      dropped_.fetch_add(1, std::memory_order_relaxed);
      finish_one();
    }
    return;
  }
  if (failed_head_) {
    // Sent after the failed head: whatever the sink answered, it goes again after
    // the head, so the sink sees the events in order from there on. This attempt
    // was not its own failure and does not count.
    --item->attempts;
    resend_.push_back(std::move(item));
    --in_flight_;
    in_flight_count_.fetch_sub(1, std::memory_order_relaxed);
    queued_.fetch_add(1, std::memory_order_relaxed);
    if (ordered_.empty()) resolve_failed_head();
    return;
  }
  if (outcome.kind != DeliveryOutcome::Kind::delivered) {
    held_ = true;
    if (!ordered_.empty()) {
      failed_head_ = std::move(item);
      failed_outcome_ = std::move(outcome);
      return;
    }
  }
  on_outcome(std::move(item), std::move(outcome));
}

void Dispatcher::resolve_failed_head() {
  queue_.insert(queue_.begin(), std::make_move_iterator(resend_.begin()), std::make_move_iterator(resend_.end()));
  resend_.clear();
  auto item = std::move(failed_head_);
  failed_head_.reset();
  on_outcome(std::move(item), std::move(failed_outcome_));
}

void Dispatcher::on_outcome(std::shared_ptr<Item> item, DeliveryOutcome outcome) {
  if (stopped_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return finish_one();
  }
  if (outcome.kind == DeliveryOutcome::Kind::delivered) {
    if (item->dead_lettering)
      dead_lettered_.fetch_add(1, std::memory_order_relaxed);
    else
      delivered_.fetch_add(1, std::memory_order_relaxed);
    if (item->dlq_id) {
      if (auto erased = store_->dlq_erase(id_, item->dlq_id); !erased)
        log()->warn("subscription {}: redriven dead letter {} delivered, but stays queued: {}", id_,
                    item->dlq_id, erased.error().message);
    }
    settle(*item);
    return finish_one();
  }
  if (outcome.kind == DeliveryOutcome::Kind::permanent)
    return give_up(std::move(item), outcome, "permanent");
  if (item->attempts >= policy_.retry.max_attempts)
    return give_up(std::move(item), outcome, "maxattempts");

  auto delay = backoff_delay(policy_.retry, item->attempts + 1, outcome.retry_after, jitter_rng());
  // The dead-letter leg has no age limit: the event already outlived its own.
  if (!item->dead_lettering && Clock::now() + delay - item->accepted > policy_.retry.max_age)
    return give_up(std::move(item), outcome, "maxage");

  retried_.fetch_add(1, std::memory_order_relaxed);
  log()->debug("subscription {}: event {} attempt {} failed ({}), retry in {} ms", id_,
               item->ev->id(), item->attempts, outcome.error, delay.count());
  auto timer = std::make_shared<asio::steady_timer>(strand_, delay);
  timers_.insert(timer);
  timer->async_wait([self = shared_from_this(), item = std::move(item), timer](auto ec) mutable {
    self->timers_.erase(timer);
    if (ec || self->stopped_) {
      self->dropped_.fetch_add(1, std::memory_order_relaxed);
      return self->finish_one();
    }
    self->attempt(std::move(item));
  });
}

void Dispatcher::give_up(std::shared_ptr<Item> item, const DeliveryOutcome& last,
                         std::string_view reason) {
  const bool to_store = !dead_letter_ && store_;
  if (item->dead_lettering || (!dead_letter_ && !to_store)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log()->warn("subscription {}: dropped event {} (source {}) after {} attempts: {} ({})", id_,
                item->ev->id(), item->ev->source(), item->attempts,
                item->dead_lettering ? "dead-letter sink failed" : reason, last.error);
    settle(*item);
    return finish_one();
  }
  EventBuilder builder(*item->ev);
  builder.set("deadletterreason", std::string(reason))
      .set("deadletterstatus", std::to_string(last.status), JsonKind::integer)
      .set("deadletterattempts", std::to_string(item->attempts), JsonKind::integer)
      .set("deadlettererror", printable(last.error))
      .set("deadlettersub", printable(id_));
  auto dead = std::move(builder).build();
  if (!dead) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log()->error("subscription {}: cannot dead-letter event {}: {}", id_, item->ev->id(),
                 dead.error().message);
    settle(*item);
    return finish_one();
  }
  if (to_store) return store_dead_letter(std::move(item), std::move(*dead), reason);
  log()->info("subscription {}: dead-lettering event {} ({}, status {}, {} attempts)", id_,
              item->ev->id(), reason, last.status, item->attempts);
  item->ev = std::move(*dead);
  item->attempts = 0;
  item->dead_lettering = true;
  attempt(std::move(item));
}

void Dispatcher::expire(std::shared_ptr<Item> item) {
  // Posted, not called: pump() may meet many expired items in a row, and giving up
  // inline would recurse through finish_one() -> pump() once per item.
  asio::post(strand_, [self = shared_from_this(), item = std::move(item)]() mutable {
    if (self->stopped_) {
      self->dropped_.fetch_add(1, std::memory_order_relaxed);
      return self->finish_one();
    }
    DeliveryOutcome outcome{DeliveryOutcome::Kind::permanent, 0,
                            "expired at " + std::string(*item->ev->attribute("expirytime")), {}};
    self->give_up(std::move(item), outcome, "expired");
  });
}

void Dispatcher::redrive(const Event& dead, std::uint64_t dlq_id) {
  EventBuilder original(dead);
  for (auto name : {"deadletterreason", "deadletterstatus", "deadletterattempts", "deadlettererror",
                    "deadlettersub"})
    original.remove(name);
  auto ev = std::move(original).build();
  if (!ev) return log()->error("subscription {}: cannot redrive dead letter {}: {}", id_, dlq_id,
                               ev.error().message);
  force_reserve();
  queued_.fetch_add(1, std::memory_order_relaxed);
  auto item = make_item(std::move(*ev), Clock::now(), 0, dlq_id);
  asio::post(strand_, [self = shared_from_this(), item = std::move(item)]() mutable {
    if (self->stopped_) {
      self->queued_.fetch_sub(1, std::memory_order_relaxed);
      self->release();
      return;  // still in the dead-letter queue
    }
    self->queue_.push_back(std::move(item));
    self->pump();
  });
}

std::uint64_t Dispatcher::durable_cursor(std::uint64_t routed_upto) const {
  std::lock_guard lock(pending_mutex_);
  if (pending_.empty()) return routed_upto;
  return std::min(routed_upto, *pending_.begin() - 1);
}

void Dispatcher::settle(const Item& item) {
  if (!item.offset) return;
  std::lock_guard lock(pending_mutex_);
  pending_.erase(item.offset);
}

void Dispatcher::store_dead_letter(std::shared_ptr<Item> item, EventPtr dead,
                                   std::string_view reason) {
  const auto key = item->dlq_id ? item->dlq_id : item->offset;
  if (auto put = store_->dlq_put(id_, key, dead); !put) {
    // Not settled: the cursor stays before it, so a restart delivers it again.
    dropped_.fetch_add(1, std::memory_order_relaxed);
    log()->error("subscription {}: cannot store dead letter for event {}: {}", id_, item->ev->id(),
                 put.error().message);
    return finish_one();
  }
  dead_lettered_.fetch_add(1, std::memory_order_relaxed);
  log()->info("subscription {}: event {} ({}) is dead letter {} in the store", id_, item->ev->id(),
              reason, key);
  settle(*item);
  finish_one();
}

void Dispatcher::finish_one() {
  held_ = false;  // only the held head is in flight while held (or we are stopping)
  --in_flight_;
  in_flight_count_.fetch_sub(1, std::memory_order_relaxed);
  release();
  pump();
  check_idle();
}

void Dispatcher::check_idle() {
  // queued_, not queue_: it also counts events pushed whose drain is still to come
  // (push() defers it to the end of the publisher's round).
  if (queued_.load(std::memory_order_acquire) != 0 || in_flight_ != 0 || idle_waiters_.empty()) return;
  auto waiters = std::move(idle_waiters_);
  idle_waiters_.clear();
  for (auto& w : waiters) w();
}

void Dispatcher::when_idle(std::function<void()> done) {
  asio::post(strand_, [self = shared_from_this(), done = std::move(done)]() mutable {
    self->idle_waiters_.push_back(std::move(done));
    self->check_idle();
  });
}

void Dispatcher::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopped_) return;
    self->stopped_ = true;
    for (const auto& t : self->timers_) t->cancel();
    auto dropped = self->queue_.size() + self->resend_.size();
    self->queue_.clear();
    self->resend_.clear();
    self->queued_.fetch_sub(dropped, std::memory_order_relaxed);
    self->dropped_.fetch_add(dropped, std::memory_order_relaxed);
    self->reserved_.fetch_sub(dropped, std::memory_order_acq_rel);
    if (dropped) log()->warn("subscription {}: stopped with {} events undelivered", self->id_, dropped);
    self->sink_->close();
    if (self->dead_letter_) self->dead_letter_->close();
  });
}

DispatcherStats Dispatcher::stats() const {
  return DispatcherStats{delivered_.load(), retried_.load(), dead_lettered_.load(), dropped_.load(),
                         queued_.load(), in_flight_count_.load()};
}

}  // namespace evmesh
