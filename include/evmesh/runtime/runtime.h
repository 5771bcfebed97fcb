// Runtime: the publish/subscribe core. Holds the subscriptions, routes each
// published event to every matching subscription's dispatcher.
//
// The hot path (publish) reads an immutable snapshot (subscriptions + index)
// loaded by atomic shared_ptr; writers (create/replace/remove) serialise on a
// mutex and swap in a new snapshot. Publishing never waits on a writer. A write
// costs O(sqrt n) amortised, not O(n): the snapshot is a large base index merged in
// the background plus small runs and tombstones (see src/runtime/route_table.h).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>

#include "evmesh/core/sink.h"
#include "evmesh/filter/subscription_index.h"
#include "evmesh/runtime/delivery_guard.h"
#include "evmesh/runtime/dispatcher.h"
#include "evmesh/runtime/ingress_stage.h"
#include "evmesh/runtime/subscription.h"
#include "evmesh/store/event_store.h"

namespace evmesh {
namespace detail {
class RouteTable;
class Committer;
class Snapshot;
struct Route;
class DuplicateFilter;
}  // namespace detail

struct RuntimeOptions {
  std::size_t max_subscriptions = 10'000;
  // Routing layout (see src/runtime/route_table.h); the defaults suit any size.
  std::size_t index_delta_capacity = 64;  // routes in the newest run before another starts
  std::size_t index_merge_min = 1024;     // pending writes that trigger a background merge
  // Opens the event store for durable subscriptions; called once, when the first
  // durable subscription is created. Unset: durable subscriptions are refused.
  std::function<Result<std::unique_ptr<store::EventStore>>()> open_store;
  // How long the log keeps events every durable subscription has settled, so that
  // replay can deliver them again; 0: trimmed as soon as all have (docs/storage.md).
  std::chrono::milliseconds store_retention{0};
  // The log's size cap (store.retention_bytes): over it, settled events go early;
  // when unsettled ones alone fill it, durable publishes fail until they are settled.
  std::uint64_t store_retention_bytes = 0;
  // Duplicate suppression (docs/delivery.md#duplicate-suppression): an event whose
  // source and id were published within this window is acked but not routed again;
  // 0: off. At most `dedup_max_keys` keys are kept (the oldest go first).
  std::chrono::milliseconds dedup_window{0};
  std::size_t dedup_max_keys = 1'000'000;
  // Encodes a durable subscription created through an API (not declared_in_config)
  // so that it is saved in the store and survives a restart (docs/storage.md).
  // Unset: such subscriptions are not saved.
  std::function<std::string(const Subscription&)> encode_saved;
};

// How the routing snapshot is laid out right now; for tests and metrics.
struct RoutingStats {
  std::size_t layers = 0;    // indexes a publish probes
  std::size_t base = 0;      // routes in the base (tombstoned ones included)
  std::size_t runs = 0;      // routes in the small runs written since the last merge
  std::size_t dead = 0;      // tombstones not merged away yet
  std::uint64_t merges = 0;  // background merges installed so far
  bool merging = false;      // a merge is in flight
};

struct PublishReceipt {
  std::size_t events = 0;      // events accepted
  std::size_t deliveries = 0;  // (event, subscription) pairs queued
  std::size_t dropped = 0;     // events a policy dropped (counted in `events`)
  std::size_t duplicates = 0;  // events suppressed as duplicates (counted in `events`)
};

class Runtime {
 public:
  Runtime(boost::asio::any_io_executor ex, RuntimeOptions options, SinkFactory& sinks);
  ~Runtime();

  // Any thread. Validates sinks through the factory. An empty id gets a generated
  // one. Errors: conflict (id exists), limit_reached, invalid_subscription. A durable
  // API subscription is saved in the store before it is visible (unavailable when
  // the store cannot save it: nothing was created).
  Result<Subscription> create(Subscription sub);
  // Any thread. Replaces a subscription; its queued events finish on the old sink.
  // The saved copy is replaced (or erased) first; on error nothing changed.
  Result<Subscription> replace(std::string_view id, Subscription sub);
  // Any thread. Deletes a subscription and drops what its queue holds; returns it.
  // A saved subscription is erased from the store first; on error nothing changed.
  Result<Subscription> remove(std::string_view id);

  // Start-up, before traffic (saved_subscriptions.cpp). Opens the event store now
  // and returns the saved API subscriptions, for the caller to decode and restore().
  Result<std::vector<store::SavedSubscription>> saved_subscriptions();
  // create() for a subscription read back from the store: it is not saved again.
  Result<Subscription> restore(Subscription sub);
  // While held, the log is not trimmed: at start-up subscriptions are created one by
  // one, and the log must keep the backlog of those not created yet.
  void hold_trim(bool held);
  std::optional<Subscription> get(std::string_view id) const;
  std::vector<Subscription> list() const;
  std::optional<DispatcherStats> stats(std::string_view id) const;
  // Any thread. Ids of the subscriptions `ev` would be routed to now (no delivery).
  std::vector<std::string> matching(const Event& ev) const;
  RoutingStats routing_stats() const;

  // Any thread. Routes the events; all-or-nothing: when any matching queue is full
  // nothing is enqueued and the error is `overloaded` naming the subscription; when
  // the events need more places in one queue than it has, `too_large`.
  // After shutdown() the error is `shutting_down`. Events pass the ingress stage
  // first, when one is set and active (its rejection is returned as is). When a matching subscription is
  // durable, the events are first committed to the store (docs/storage.md): this
  // call then waits for the group commit; the error is `unavailable` when the
  // store cannot commit (nothing is delivered then).
  Result<PublishReceipt> publish(std::span<const EventPtr> events);

  using PublishCallback = std::function<void(Result<PublishReceipt>)>;
  // Makes the completion of a publish that must wait; called at most once.
  using DeferPublish = std::function<PublishCallback()>;
  // Any thread. Same as publish(), but never waits: returns the result when no
  // matching subscription is durable (the transient hot path allocates nothing
  // more); else calls defer() and returns nullopt, and the completion runs once on
  // the store's committer thread after the commit (or its failure).
  std::optional<Result<PublishReceipt>> publish(std::span<const EventPtr> events,
                                                const DeferPublish& defer);

  // Any thread. The dead-letter queue of a durable subscription without a
  // dead-letter sink (docs/storage.md): events whose delivery gave up, each with the
  // deadletter* attributes, under an id. Errors: not_found (no such subscription or
  // dead letter), conflict (the subscription is not durable).
  Result<std::vector<store::StoredEvent>> dead_letters(std::string_view id, std::uint64_t after,
                                                       std::size_t max) const;
  Result<EventPtr> dead_letter(std::string_view id, std::uint64_t dlq_id) const;
  Result<void> delete_dead_letter(std::string_view id, std::uint64_t dlq_id);
  // Delivers the dead letter again (without its deadletter* attributes); it leaves
  // the queue when the sink acks, and comes back if delivery gives up again.
  Result<void> redrive(std::string_view id, std::uint64_t dlq_id);
  // Any thread. Moves a durable subscription's cursor back (or forward) to `from`
  // and delivers again, in log order, every retained event after it that matches;
  // returns the first offset delivered again (last offset + 1 when none). Errors:
  // not_found (no such subscription), conflict (not durable).
  Result<std::uint64_t> replay(std::string_view id, const ReplayFrom& from);


  // Call before the first publish (not thread-safe against publish).
  void set_ingress_stage(std::shared_ptr<const IngressStage> stage) { ingress_ = std::move(stage); }
  // Access control at routing (delivery_guard.h): asked for every (event, owned
  // subscription) pair. Call before the first publish (not thread-safe against it).
  void set_delivery_guard(std::shared_ptr<const DeliveryGuard> guard) { guard_ = std::move(guard); }

  // Stops accepting publishes, waits until every dispatcher is idle or `timeout`
  // passes, then stops them and calls `done` (on the runtime's executor) with
  // true when everything drained.
  void shutdown(std::chrono::milliseconds timeout, std::function<void(bool drained)> done);

 private:
  Result<std::shared_ptr<const detail::Route>> make_route(Subscription sub, std::uint64_t seq);
  // The dispatcher of durable subscription `id` (dead_letters.cpp).
  Result<std::shared_ptr<Dispatcher>> durable_dispatcher(std::string_view id) const;
  // Caller holds the write mutex. Opens the store on first use.
  Result<void> ensure_store();
  // create(), saving the subscription when `save` and it is a durable API one.
  Result<Subscription> add(Subscription sub, bool save);
  // Whether `sub` is kept in the store across restarts: durable, from an API.
  bool saved(const Subscription& sub) const;
  // Caller holds the write mutex. Brings the saved copy of `id` in line with `sub`
  // (saved, replaced or erased), for a created or replaced subscription.
  Result<void> save(const Subscription& sub, bool was_saved);
  // Caller holds the write mutex. Pushes what a durable route has not settled yet
  // (after a restart), or starts a new one at the end of the log.
  Result<void> resume_durable(const detail::Route& route);
  // The first offset a replay from `from` delivers again.
  Result<std::uint64_t> replay_offset(const ReplayFrom& from) const;
  // Routes and reserves; pushes right away unless a durable dispatcher is in the
  // plan. Then hands the publish and defer()'s completion to the committer and
  // returns nullopt.
  std::optional<Result<PublishReceipt>> route_events(std::span<const EventPtr> events,
                                                     const DeferPublish& defer);
  // publish() with duplicate suppression on: routes only the events seen for the
  // first time; a failed publish forgets their keys (dedup_publish.cpp).
  std::optional<Result<PublishReceipt>> publish_once(std::span<const EventPtr> events,
                                                     const DeferPublish& defer);
  // Store just opened: remembers the keys of the events it kept from the last window.
  void restore_duplicate_keys();
  std::optional<Result<PublishReceipt>> publish_admitted(std::span<const EventPtr> events,
                                                         const DeferPublish& defer);
  // Reserves a queue slot for every (event, dispatcher) pair, then pushes them all,
  // or (with `defer`: a durable subscription is in the plan) hands them to the
  // committer and returns nullopt.
  std::optional<Result<PublishReceipt>> enqueue(
      std::shared_ptr<const detail::Snapshot> snap, std::span<const EventPtr> events,
      std::span<const std::pair<std::uint32_t, Dispatcher*>> plan, const DeferPublish* defer);

  boost::asio::any_io_executor ex_;
  RuntimeOptions options_;
  SinkFactory& sinks_;
  // Index merges are O(n) (~130 ms at 100k subscriptions): they run on their own
  // thread so no I/O thread stalls. Declared before table_ so it outlives it.
  boost::asio::thread_pool merge_pool_{1};
  std::shared_ptr<detail::RouteTable> table_;  // writers hold table_->write_mutex()
  // Set once under the write mutex, read by publishes after they saw a durable
  // route (which was inserted after these were set).
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<detail::Committer> committer_;
  std::shared_ptr<const IngressStage> ingress_;
  std::shared_ptr<const DeliveryGuard> guard_;
  std::unique_ptr<detail::DuplicateFilter> dedup_;  // set when dedup_window > 0
  std::atomic<bool> accepting_{true};
  bool trim_held_ = false;  // guarded by the write mutex
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace evmesh
