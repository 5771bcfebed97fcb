// RouteTable: the runtime's subscriptions and their index, laid out like a small
// LSM tree so that a write costs little and a publish never waits.
//
// Design note. A snapshot is a short list of immutable layers, oldest first:
//
//   layers[0]      base   large, built by a background merge on the merge executor
//   layers[1..]    runs   small, built by the writer (the newest is the "delta")
//
// Each layer is a Segment (routes + SubscriptionIndex + id map, never changed once
// built) plus a sorted list of dead positions (tombstones), which is the only part a
// remove rewrites. Writers (serialised on write_mutex()):
//
//   create   rebuild the newest run with the route appended while it holds fewer than
//            delta_capacity routes, else start a new run; when two runs stand after
//            the frozen prefix, fold them into one (drops their dead routes);
//   remove   add the route's position to its layer's tombstones (O(dead in layer));
//   replace  remove + create, keeping the creation order (seq) for list().
//
// When the runs and the base's tombstones together pass merge_threshold (at least
// merge_min, growing with sqrt(base) so merges stay O(n) every O(sqrt n) writes),
// the writer freezes every current layer and posts one merge job to the executor.
// The job builds a new base from the frozen layers' live routes without any lock,
// then, under write_mutex(), carries over the tombstones added meanwhile (mapped
// to new positions) and installs [new base] + runs created since. Only one merge
// runs at a time; runs keep absorbing writes while it does.
//
// Cost per create ~ delta_capacity/2 + run size/delta_capacity + n/threshold entry
// builds, all bounded; a publish probes at most a handful of indexes (base, frozen
// runs during a merge, current runs). A route is live in exactly one layer, so
// match() yields each subscription once.
//
// Threading: snapshot() and everything on a Snapshot: any thread, lock-free.
// insert()/erase(): caller holds write_mutex(). The merge job runs on the executor
// and holds only a weak reference; a table destroyed first makes it a no-op.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "evmesh/filter/subscription_index.h"
#include "evmesh/runtime/dispatcher.h"
#include "evmesh/runtime/runtime.h"
#include "evmesh/runtime/subscription.h"

namespace evmesh::detail {

struct Route {
  Subscription sub;
  std::vector<filter::FilterPtr> filters;  // sub.effective_filters(), computed once
  std::shared_ptr<Dispatcher> dispatcher;
  std::uint64_t seq = 0;                   // creation order; replace keeps it
};
using RoutePtr = std::shared_ptr<const Route>;

// Immutable: routes, their index (keys are positions) and an id -> position map.
class Segment {
 public:
  static std::shared_ptr<const Segment> build(std::vector<RoutePtr> routes);
  const std::vector<RoutePtr>& routes() const { return routes_; }
  std::size_t size() const { return routes_.size(); }
  const filter::SubscriptionIndex& index() const { return *index_; }
  std::optional<std::uint32_t> find(std::string_view id) const;

 private:
  std::vector<RoutePtr> routes_;
  std::shared_ptr<const filter::SubscriptionIndex> index_;
  std::unordered_map<std::string_view, std::uint32_t> by_id_;  // views into routes_
};

struct Layer {
  std::shared_ptr<const Segment> segment;
  std::shared_ptr<const std::vector<std::uint32_t>> dead;  // sorted; null when none
  std::size_t dead_count() const { return dead ? dead->size() : 0; }
  std::size_t live() const { return segment->size() - dead_count(); }
  bool is_dead(std::uint32_t pos) const;
};

struct RouteTableOptions {
  std::size_t delta_capacity = 64;  // routes the newest run takes before a new one starts
  std::size_t merge_min = 1024;     // runs + base tombstones that trigger a merge, at least
};

class Snapshot {
 public:
  struct Location {
    const Route* route;
    std::size_t layer;
    std::uint32_t pos;
  };
  std::optional<Location> find(std::string_view id) const;
  // Appends every matching live route once. Lock-free; allocates only when out grows.
  void match(const Event& ev, std::vector<const Route*>& out) const;
  // Live routes in creation order.
  std::vector<RoutePtr> routes() const;
  std::size_t size() const { return live_; }

 private:
  friend class RouteTable;
  std::vector<Layer> layers_;  // [0] is the base
  std::size_t live_ = 0;
};

class RouteTable : public std::enable_shared_from_this<RouteTable> {
 public:
  RouteTable(boost::asio::any_io_executor ex, RouteTableOptions options);

  std::shared_ptr<const Snapshot> snapshot() const { return snapshot_.load(std::memory_order_acquire); }
  std::mutex& write_mutex() { return write_mutex_; }

  // Caller holds write_mutex(). `route->sub.id` is not in the table.
  void insert(RoutePtr route);
  // Caller holds write_mutex(); `at` comes from the current snapshot.
  void erase(const Snapshot::Location& at);
  std::uint64_t next_seq() { return next_seq_++; }  // caller holds write_mutex()

  RoutingStats stats() const;

 private:
  void install(std::vector<Layer> layers);
  void maybe_merge(const Snapshot& snap);
  void merge(std::vector<Layer> frozen);  // on the executor, no lock held
  std::size_t merge_threshold(const Snapshot& snap) const;

  boost::asio::any_io_executor ex_;
  RouteTableOptions options_;
  mutable std::mutex write_mutex_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  // Guarded by write_mutex_.
  std::size_t frozen_ = 0;  // layers [0, frozen_) belong to the merge in flight (0: none)
  std::uint64_t next_seq_ = 1;
  std::atomic<std::uint64_t> merges_{0};
};

}  // namespace evmesh::detail
