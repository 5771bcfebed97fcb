// Committer: group commit for publishes that reach a durable subscription.
//
// Design note. A publish whose plan includes a durable dispatcher is not pushed by
// the publishing thread: it is queued here with its plan (slots already reserved)
// and its completion. One thread takes everything queued, appends the events that
// some durable dispatcher wants to the store in ONE batch (one fsync under the
// `group` policy, however many publishers wait), then pushes every (event,
// dispatcher) pair of the batch in order, with the event's offset for durable
// dispatchers, and only then completes the publishes (the publisher's ack). When
// the append fails, the reservations are released and every publish of the batch
// fails with the store's error: nothing is delivered that was not acked.
//
// After a batch's pushes, routed_upto() is the batch's last offset: every offset up
// to it was pushed to every durable dispatcher it routes to, so a dispatcher's
// durable_cursor(routed_upto) is safe to commit. The same thread commits those
// cursors every `cursor_interval` and trims the log below the lowest of them.
//
// Retention (docs/storage.md): settled events stay for `retention.age`, unless the
// log is over `retention.bytes`, when the oldest settled ones go first. Unsettled
// events are never dropped: when they alone take more than `retention.bytes`,
// batches fail with `unavailable` ("the event store is full") until subscriptions
// catch up. So the log holds at most `retention.bytes` plus one batch.
//
// Threading: submit() from any thread; completions run on the committer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "evmesh/runtime/runtime.h"
#include "evmesh/store/event_store.h"
#include "repeated_failures.h"
#include "route_table.h"

namespace evmesh::detail {

struct PendingPublish {
  std::shared_ptr<const Snapshot> snapshot;             // keeps the plan's dispatchers alive
  std::vector<EventPtr> events;
  std::vector<std::pair<std::uint32_t, Dispatcher*>> plan;  // (event index, dispatcher), reserved
  Runtime::PublishCallback done;
};

struct Retention {
  std::chrono::milliseconds age{0};  // keep settled events this long; 0: not at all
  std::uint64_t bytes = 0;           // the log's cap (EventStore::bytes()); 0: none
};

class Committer {
 public:
  Committer(store::EventStore& store, std::shared_ptr<RouteTable> table,
            std::chrono::milliseconds cursor_interval = std::chrono::milliseconds(100),
            Retention retention = {});
  // Fails what is still queued (shutting_down) and commits the cursors one last time.
  ~Committer();

  void submit(PendingPublish publish);
  std::uint64_t routed_upto() const { return routed_upto_.load(std::memory_order_acquire); }
  // Commits every durable dispatcher's cursor now (also done periodically).
  void commit_cursors();
  // `id`'s cursor was rewound in the store: the next commit writes it whatever it is.
  void rewound(const std::string& id);
  // While held, cursors are committed but the log is not trimmed (Runtime::hold_trim).
  void hold_trim(bool held) { trim_held_.store(held, std::memory_order_release); }

 private:
  void run();
  void commit_batch(std::vector<PendingPublish>& batch);
  // Where to trim, given that every durable subscription settled up to `settled`.
  std::uint64_t trim_point(std::uint64_t settled);
  // `unavailable` when the log is at its size cap even after trimming what is settled.
  Result<void> check_room();

  store::EventStore& store_;
  std::shared_ptr<RouteTable> table_;
  const std::chrono::milliseconds cursor_interval_;
  const Retention retention_;
  std::atomic<std::uint64_t> routed_upto_;
  std::atomic<bool> trim_held_{false};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<PendingPublish> queue_;
  bool stopping_ = false;
  std::mutex cursor_mutex_;
  std::unordered_map<std::string, std::uint64_t> committed_;  // last cursor written, per sub
  std::string slowest_;  // the subscription with the lowest cursor; guarded by cursor_mutex_
  RepeatedFailures failures_;  // of the periodic work; guarded by cursor_mutex_
  std::thread thread_;
};

}  // namespace evmesh::detail
