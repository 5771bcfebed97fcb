// Runtime: the publish/subscribe core. Holds the subscriptions, routes each
// published event to every matching subscription's dispatcher.
//
// The hot path (publish) reads an immutable Snapshot (subscriptions + index)
// loaded by atomic shared_ptr; writers (create/replace/remove) serialise on a
// mutex, build a new snapshot and swap it in. Publishing never waits on a writer.
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

#include "evmesh/core/sink.h"
#include "evmesh/filter/subscription_index.h"
#include "evmesh/runtime/dispatcher.h"
#include "evmesh/runtime/subscription.h"

namespace evmesh {

struct RuntimeOptions {
  std::size_t max_subscriptions = 10'000;
};

struct PublishReceipt {
  std::size_t events = 0;      // events accepted
  std::size_t deliveries = 0;  // (event, subscription) pairs queued
};

class Runtime {
 public:
  Runtime(boost::asio::any_io_executor ex, RuntimeOptions options, SinkFactory& sinks);
  ~Runtime();

  // Any thread. Validates sinks through the factory. An empty id gets a generated
  // one. Errors: conflict (id exists), limit_reached, invalid_subscription.
  Result<Subscription> create(Subscription sub);
  // Any thread. Replaces a subscription; its queued events finish on the old sink.
  Result<Subscription> replace(std::string_view id, Subscription sub);
  // Any thread. Deletes a subscription and drops what its queue holds; returns it.
  Result<Subscription> remove(std::string_view id);
  std::optional<Subscription> get(std::string_view id) const;
  std::vector<Subscription> list() const;
  std::optional<DispatcherStats> stats(std::string_view id) const;

  // Any thread. Routes the events; all-or-nothing: when any matching queue is full
  // nothing is enqueued and the error is `overloaded` naming the subscription.
  // After shutdown() the error is `shutting_down`.
  Result<PublishReceipt> publish(std::span<const EventPtr> events);

  // Stops accepting publishes, waits until every dispatcher is idle or `timeout`
  // passes, then stops them and calls `done` (on the runtime's executor) with
  // true when everything drained.
  void shutdown(std::chrono::milliseconds timeout, std::function<void(bool drained)> done);

 private:
  struct Route;
  struct Snapshot;
  std::shared_ptr<const Snapshot> snapshot() const;
  void install(std::vector<std::shared_ptr<const Route>> routes);  // caller holds write_mutex_
  Result<std::shared_ptr<const Route>> make_route(Subscription sub);

  boost::asio::any_io_executor ex_;
  RuntimeOptions options_;
  SinkFactory& sinks_;
  std::mutex write_mutex_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::atomic<bool> accepting_{true};
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace evmesh
