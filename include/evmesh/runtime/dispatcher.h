// Dispatcher: one per subscription. Holds the subscription's bounded queue and
// drives its sink: in order with one delivery in flight by default, or up to
// `concurrency` in flight (unordered). In order with a sink that pipelines
// (Sink::ordered_window() > 1), up to that many events are in flight in order; when
// one fails, the dispatcher waits for the answers to those sent after it, puts them
// back at the head of the queue behind it, and deals with the failed event alone
// (retry, dead letter) before sending anything else. Failed deliveries are retried per the RetryPolicy; when
// attempts or age run out, or the sink answers with a permanent failure, the event
// goes to the dead-letter sink with the failure in extension attributes:
//   deadletterreason   "permanent" | "maxattempts" | "maxage"
//   deadletterstatus   last protocol status (0 when there was no response)
//   deadletterattempts attempts made
//   deadlettererror    last error text
//   deadlettersub      subscription id
//
// Durable dispatchers (durable subscriptions) also track the store offsets of the
// events they hold: durable_cursor() is the offset below which every event is
// settled (delivered, dead-lettered or dropped by the retry policy), which the
// runtime commits to the store. An event dropped by stop() stays unsettled, so it
// is delivered again after a restart. A durable dispatcher without a dead-letter
// sink puts exhausted events in the store's dead-letter queue instead of dropping
// them; redrive() delivers one again and removes it from the queue once the sink
// acks (a failure puts it back).
//
// Threading: all state lives on the dispatcher's strand. try_reserve() and
// release() are lock-free and callable from any thread: publishers reserve a slot
// in every matching queue before enqueueing anything, so a full queue rejects the
// whole publish (no partial fan-out). push() appends to a small mutex-guarded inbox
// and posts to the strand only when the inbox was empty, and from an I/O thread
// only at the end of its round (at_round_end): the publishes one round reads cost
// one strand hop and one wake-up of the delivery thread, not one each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "evmesh/core/sink.h"
#include "evmesh/runtime/subscription.h"
#include "evmesh/store/event_store.h"

namespace evmesh {

struct DispatcherStats {
  std::uint64_t delivered = 0;
  std::uint64_t retried = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t dropped = 0;  // exhausted with no dead-letter sink, or dead-letter failed
  std::size_t queued = 0;
  std::size_t in_flight = 0;
};

class Dispatcher : public std::enable_shared_from_this<Dispatcher> {
 public:
  using Clock = std::chrono::steady_clock;

  Dispatcher(boost::asio::any_io_executor ex, std::string subscription_id, DeliveryPolicy policy,
             std::shared_ptr<Sink> sink, std::shared_ptr<Sink> dead_letter,
             store::EventStore* store = nullptr);  // set: durable

  // Any thread. Reserves one queue slot; false when the queue is full.
  bool try_reserve();
  // Any thread. Gives back a slot reserved but not used.
  void release();
  // Any thread. Takes a slot even when the queue is full (backlog read back from
  // the store after a restart: it was acked already and must not be refused).
  void force_reserve();
  // Any thread. Enqueues an event into a previously reserved slot. `offset` is the
  // event's store offset for a durable dispatcher, 0 otherwise.
  void push(EventPtr ev, Clock::time_point accepted, std::uint64_t offset = 0);

  // Any thread. Delivers dead letter `dlq_id` (its dead-letter attributes removed)
  // again; takes a slot even when the queue is full. Durable only.
  void redrive(const Event& dead, std::uint64_t dlq_id);

  bool durable() const { return store_ != nullptr; }
  // Any thread. Durable only: every offset <= the result is settled, given that
  // every offset <= `routed_upto` routed here was pushed already.
  std::uint64_t durable_cursor(std::uint64_t routed_upto) const;

  // Any thread. Calls `done` (on the strand) once nothing is queued or in flight.
  void when_idle(std::function<void()> done);
  // Any thread. Stops: cancels retry timers, drops what is queued (counted), closes sinks.
  void stop();

  // Any thread; a snapshot of counters.
  DispatcherStats stats() const;
  const std::string& subscription_id() const { return id_; }
  std::size_t capacity() const { return policy_.queue_capacity; }

 private:
  struct Item {
    EventPtr ev;
    Clock::time_point accepted;
    std::uint32_t attempts = 0;
    bool dead_lettering = false;  // now going to the dead-letter sink
    std::uint64_t offset = 0;     // store offset (durable only)
    std::uint64_t dlq_id = 0;     // being redriven from the store's dead-letter queue
    // From the event's `expirytime` (parsed once): not delivered after it.
    std::chrono::system_clock::time_point expires = std::chrono::system_clock::time_point::max();
  };
  static std::shared_ptr<Item> make_item(EventPtr ev, Clock::time_point accepted, std::uint64_t offset,
                                         std::uint64_t dlq_id);
  // Dead-letters an expired item (reason `expired`) instead of attempting it.
  void expire(std::shared_ptr<Item> item);
  void drain_inbox();
  // Deliveries allowed in flight: `concurrency`, or the sink's ordered window.
  std::size_t limit() const { return policy_.concurrency > 1 ? policy_.concurrency : window_; }
  void pump();
  void attempt(std::shared_ptr<Item> item);
  // An outcome of a send_ordered(); they arrive in send order.
  void on_ordered_outcome(std::shared_ptr<Item> item, DeliveryOutcome outcome);
  // The failed head's followers have all answered: requeue them, then handle it.
  void resolve_failed_head();
  void on_outcome(std::shared_ptr<Item> item, DeliveryOutcome outcome);
  // Retries are over: send to the dead-letter sink, or drop when there is none.
  void give_up(std::shared_ptr<Item> item, const DeliveryOutcome& last, std::string_view reason);
  // Durable without a dead-letter sink: into the store's dead-letter queue.
  void store_dead_letter(std::shared_ptr<Item> item, EventPtr dead, std::string_view reason);
  // The item's outcome is final: its offset no longer holds the cursor back.
  void settle(const Item& item);
  void finish_one();
  void check_idle();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::string id_;
  DeliveryPolicy policy_;
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<Sink> dead_letter_;

  store::EventStore* const store_;
  std::size_t window_ = 1;  // ordered sends in flight at once (concurrency 1 only)
  mutable std::mutex pending_mutex_;
  std::set<std::uint64_t> pending_;  // durable: offsets pushed, not settled

  std::atomic<std::size_t> reserved_{0};  // queued + in flight + reserved-not-pushed
  std::mutex inbox_mutex_;
  struct Pushed {
    EventPtr ev;
    Clock::time_point accepted;
    std::uint64_t offset;
  };
  std::vector<Pushed> inbox_;  // guarded by inbox_mutex_
  bool drain_posted_ = false;  // guarded by inbox_mutex_
  // strand-only state
  std::deque<std::shared_ptr<Item>> queue_;
  std::vector<Pushed> draining_;  // swapped with inbox_
  std::deque<std::shared_ptr<Item>> ordered_;   // ordered sends in flight, in send order
  std::shared_ptr<Item> failed_head_;           // failed while followers were in flight
  DeliveryOutcome failed_outcome_;
  std::vector<std::shared_ptr<Item>> resend_;   // its followers, to go again after it
  bool held_ = false;  // the head failed: nothing else goes out until it is resolved
  std::uint32_t in_flight_ = 0;   // deliveries (and their retry waits) not finished
  bool stopped_ = false;
  std::vector<std::function<void()>> idle_waiters_;
  std::set<std::shared_ptr<boost::asio::steady_timer>> timers_;  // pending retries

  std::atomic<std::uint64_t> delivered_{0}, retried_{0}, dead_lettered_{0}, dropped_{0};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint32_t> in_flight_count_{0};
};

}  // namespace evmesh
