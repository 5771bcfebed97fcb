#include "evmesh/runtime/runtime.h"

#include <algorithm>
#include <future>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>

#include "committer.h"
#include "duplicate_filter.h"
#include "route_table.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace evmesh {
namespace {

namespace asio = boost::asio;

std::string generate_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "sub-";
  auto bits = rng();
  for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kHex[bits & 0xF]);
  return id;
}

// A batch that needs more places in one queue than the queue has can never be
// accepted: too_large (413), not the overloaded (503) that no retry would cure.
std::optional<Error> over_capacity(std::span<const std::pair<std::uint32_t, Dispatcher*>> plan) {
  std::unordered_map<const Dispatcher*, std::size_t> need;
  for (const auto& [e, d] : plan) ++need[d];
  for (const auto& [d, n] : need)
    if (n > d->capacity())
      return Error::make(Errc::too_large,
                         fmt::format("the batch needs {} places in the delivery queue of subscription '{}', "
                                     "which holds {} (delivery.queuecapacity): publish smaller batches",
                                     n, d->subscription_id(), d->capacity()));
  return std::nullopt;
}

}  // namespace

using detail::Route;
using detail::RoutePtr;

// Access control at routing: an owned subscription only gets what its owner may read.
static bool permitted(const DeliveryGuard* guard, const Route& r, const Event& ev) {
  return !guard || r.sub.owner.empty() || guard->may_receive(r.sub.owner, ev);
}

Runtime::Runtime(asio::any_io_executor ex, RuntimeOptions options, SinkFactory& sinks)
    : ex_(std::move(ex)), options_(options), sinks_(sinks),
      table_(std::make_shared<detail::RouteTable>(
          merge_pool_.get_executor(),
          detail::RouteTableOptions{options.index_delta_capacity, options.index_merge_min})) {
  if (options.dedup_window.count() > 0)
    dedup_ = std::make_unique<detail::DuplicateFilter>(options.dedup_window, options.dedup_max_keys);
}

Runtime::~Runtime() {
  for (const auto& r : table_->snapshot()->routes()) r->dispatcher->stop();
  committer_.reset();  // commits the durable cursors one last time, before the store closes
}

Result<void> Runtime::ensure_store() {
  if (store_) return {};
  if (!options_.open_store)
    return fail(Errc::invalid_subscription, "durable subscriptions need an event store", "durable");
  auto opened = options_.open_store();
  if (!opened) return std::unexpected(opened.error());
  store_ = std::move(*opened);
  // With duplicate suppression on, settled events stay for its window too: after a
  // restart their keys are read back from the log (restore_duplicate_keys).
  const auto age = dedup_ ? std::max(options_.store_retention, options_.dedup_window)
                          : options_.store_retention;
  committer_ = std::make_unique<detail::Committer>(
      *store_, table_, std::chrono::milliseconds(100),
      detail::Retention{age, options_.store_retention_bytes});
  committer_->hold_trim(trim_held_);
  if (dedup_) restore_duplicate_keys();
  spdlog::info("event store opened: offsets {}..{}", store_->first_offset(), store_->last_offset());
  return {};
}

Result<void> Runtime::resume_durable(const Route& route) {
  const auto& id = route.sub.id;
  auto cursor = store_->cursor(id);
  if (!cursor && route.sub.replay) {  // new, asked to start in the past
    auto from = replay_offset(*route.sub.replay);
    if (!from) return std::unexpected(from.error());
    cursor = *from - 1;
    if (auto rewound = store_->rewind(id, *cursor); !rewound) return rewound;
  }
  if (!cursor) return store_->commit(id, committer_->routed_upto());  // new: starts now
  // Every event after the cursor was acked to its publisher and may not have reached
  // the sink: deliver it again, in log order.
  std::uint64_t after = std::max(*cursor, store_->first_offset() - 1);
  const auto upto = store_->last_offset();
  const auto now = Dispatcher::Clock::now();
  std::size_t resumed = 0;
  while (after < upto) {
    auto page = store_->read(after, 1024);
    if (!page) return std::unexpected(page.error());
    if (page->empty()) break;
    for (auto& stored : *page) {
      after = stored.offset;
      if (!filter::matches_all(route.filters, *stored.event)) continue;
      route.dispatcher->force_reserve();
      route.dispatcher->push(std::move(stored.event), now, stored.offset);
      ++resumed;
    }
  }
  if (resumed)
    spdlog::info("subscription {}: redelivering {} un-acked event(s) after offset {}", id, resumed,
                 *cursor);
  return {};
}

Result<std::uint64_t> Runtime::replay_offset(const ReplayFrom& from) const {
  if (!from.time) return store_->first_offset();
  return store_->offset_at(*from.time);
}

Result<std::uint64_t> Runtime::replay(std::string_view id, const ReplayFrom& from) {
  std::lock_guard lock(table_->write_mutex());  // the committer neither trims nor commits meanwhile
  auto at = table_->snapshot()->find(id);
  if (!at) return fail(Errc::not_found, "subscription '" + std::string(id) + "' does not exist");
  if (!at->route->sub.durable)
    return fail(Errc::conflict, "subscription '" + std::string(id) +
                                    "' is not durable: only a durable subscription can replay");
  auto first = replay_offset(from);
  if (!first) return std::unexpected(first.error());
  if (auto rewound = store_->rewind(id, *first - 1); !rewound) return std::unexpected(rewound.error());
  committer_->rewound(at->route->sub.id);
  // A new dispatcher reads the log back from the rewound cursor (as after a
  // restart); the old one finishes what it holds, then stops. Events in both are
  // delivered twice: at least once.
  auto route = make_route(at->route->sub, at->route->seq);
  if (!route) return std::unexpected(route.error());
  auto old = at->route->dispatcher;
  old->when_idle([old] { old->stop(); });
  table_->erase(*at);
  table_->insert(std::move(*route));
  spdlog::info("subscription {}: replaying from offset {} ({})", id, *first, from.text);
  return *first;
}

Result<RoutePtr> Runtime::make_route(Subscription sub, std::uint64_t seq) {
  if (sub.durable) {
    if (auto opened = ensure_store(); !opened) return std::unexpected(opened.error());
  }
  auto spec = sub.sink;
  spec.concurrency = sub.delivery.concurrency;
  auto sink = sinks_.make(spec);
  if (!sink) return std::unexpected(sink.error());
  std::shared_ptr<Sink> dead_letter;
  if (sub.delivery.dead_letter) {
    auto dl_spec = *sub.delivery.dead_letter;
    dl_spec.concurrency = sub.delivery.concurrency;  // dead-lettering runs within the same limit
    auto dl = sinks_.make(dl_spec);
    if (!dl) {
      auto err = dl.error();
      err.pointer = "delivery.deadlettersink";
      return std::unexpected(std::move(err));
    }
    dead_letter = std::move(*dl);
  }
  auto dispatcher = std::make_shared<Dispatcher>(ex_, sub.id, sub.delivery, std::move(*sink),
                                                 std::move(dead_letter),
                                                 sub.durable ? store_.get() : nullptr);
  auto filters = sub.effective_filters();
  auto route = std::make_shared<const Route>(
      Route{std::move(sub), std::move(filters), std::move(dispatcher), seq});
  // Before the route is visible to publishes: the backlog goes first, in order.
  if (route->sub.durable) {
    if (auto resumed = resume_durable(*route); !resumed) {
      route->dispatcher->stop();
      return std::unexpected(resumed.error());
    }
  }
  return route;
}

Result<Subscription> Runtime::create(Subscription sub) { return add(std::move(sub), true); }

Result<Subscription> Runtime::add(Subscription sub, bool save_it) {
  std::lock_guard lock(table_->write_mutex());
  auto snap = table_->snapshot();
  if (snap->size() >= options_.max_subscriptions)
    return fail(Errc::limit_reached,
                "the subscription limit (" + std::to_string(options_.max_subscriptions) +
                    ") is reached");
  if (sub.id.empty()) {
    do sub.id = generate_id();
    while (snap->find(sub.id));
  } else if (snap->find(sub.id)) {
    return fail(Errc::conflict, "subscription '" + sub.id + "' already exists", "id");
  }
  auto route = make_route(std::move(sub), table_->next_seq());
  if (!route) return std::unexpected(route.error());
  if (save_it) {
    if (auto saved = save((*route)->sub, false); !saved) {
      (*route)->dispatcher->stop();
      if (auto forgot = store_->forget((*route)->sub.id); !forgot)  // the cursor it started
        spdlog::warn("subscription {}: {}", (*route)->sub.id, forgot.error().message);
      return std::unexpected(saved.error());
    }
  }
  Subscription created = (*route)->sub;
  table_->insert(std::move(*route));
  spdlog::info("subscription {} created, sink {}", created.id, created.sink.uri);
  return created;
}

Result<Subscription> Runtime::replace(std::string_view id, Subscription sub) {
  std::lock_guard lock(table_->write_mutex());
  auto at = table_->snapshot()->find(id);
  if (!at) return fail(Errc::not_found, "subscription '" + std::string(id) + "' does not exist");
  sub.id = std::string(id);
  auto route = make_route(std::move(sub), at->route->seq);  // keeps its place in list()
  if (!route) return std::unexpected(route.error());
  if (auto saved = save((*route)->sub, this->saved(at->route->sub)); !saved) {
    (*route)->dispatcher->stop();
    return std::unexpected(saved.error());
  }
  // The old dispatcher finishes what it holds on the old sink, then stops.
  auto old = at->route->dispatcher;
  old->when_idle([old] { old->stop(); });
  Subscription replaced = (*route)->sub;
  table_->erase(*at);
  table_->insert(std::move(*route));
  spdlog::info("subscription {} replaced, sink {}", replaced.id, replaced.sink.uri);
  return replaced;
}

Result<Subscription> Runtime::remove(std::string_view id) {
  std::lock_guard lock(table_->write_mutex());
  auto snap = table_->snapshot();  // keeps the route alive past erase()
  auto at = snap->find(id);
  if (!at) return fail(Errc::not_found, "subscription '" + std::string(id) + "' does not exist");
  Subscription removed = at->route->sub;
  // A saved subscription must not come back after a restart: erased first, or kept.
  const bool was_saved = saved(removed);
  if (was_saved) {
    if (auto forgot = store_->forget(removed.id); !forgot) return std::unexpected(forgot.error());
  }
  auto dispatcher = at->route->dispatcher;
  table_->erase(*at);
  dispatcher->stop();
  if (removed.durable && !was_saved) {
    if (auto forgot = store_->forget(removed.id); !forgot)
      spdlog::warn("subscription {}: {}", removed.id, forgot.error().message);
  }
  spdlog::info("subscription {} deleted", id);
  return removed;
}

std::optional<Subscription> Runtime::get(std::string_view id) const {
  auto snap = table_->snapshot();
  if (auto at = snap->find(id)) return at->route->sub;
  return std::nullopt;
}

std::vector<Subscription> Runtime::list() const {
  std::vector<Subscription> out;
  for (const auto& r : table_->snapshot()->routes()) out.push_back(r->sub);
  return out;
}

std::optional<DispatcherStats> Runtime::stats(std::string_view id) const {
  auto snap = table_->snapshot();
  if (auto at = snap->find(id)) return at->route->dispatcher->stats();
  return std::nullopt;
}

std::vector<std::string> Runtime::matching(const Event& ev) const {
  auto snap = table_->snapshot();
  std::vector<const Route*> routes;
  snap->match(ev, routes);
  std::vector<std::string> ids;
  ids.reserve(routes.size());
  for (const auto* r : routes) ids.push_back(r->sub.id);
  return ids;
}

RoutingStats Runtime::routing_stats() const { return table_->stats(); }

Result<PublishReceipt> Runtime::publish(std::span<const EventPtr> events) {
  // One routing pass; the promise exists only when a durable subscription matched.
  std::optional<std::promise<Result<PublishReceipt>>> committed;
  const DeferPublish defer = [&committed] {
    committed.emplace();
    return [&committed](Result<PublishReceipt> r) { committed->set_value(std::move(r)); };
  };
  if (auto now = publish(events, defer)) return std::move(*now);
  return committed->get_future().get();  // wait for the group commit
}

std::optional<Result<PublishReceipt>> Runtime::publish(std::span<const EventPtr> events,
                                                       const DeferPublish& defer) {
  if (dedup_) return publish_once(events, defer);
  return route_events(events, defer);
}

std::optional<Result<PublishReceipt>> Runtime::route_events(std::span<const EventPtr> events,
                                                            const DeferPublish& defer) {
  if (!accepting_.load(std::memory_order_acquire))
    return fail(Errc::shutting_down, "the broker is shutting down");
  if (ingress_ && ingress_->active()) return publish_admitted(events, defer);
  // The snapshot keeps every route in the plan alive until we return.
  auto snap = table_->snapshot();
  // (event, route) pairs; thread-local buffers keep the hot path allocation-free.
  thread_local std::vector<const Route*> routes;
  thread_local std::vector<std::pair<std::uint32_t, Dispatcher*>> plan;
  plan.clear();
  bool durable = false;
  for (std::uint32_t e = 0; e < events.size(); ++e) {
    routes.clear();
    snap->match(*events[e], routes);
    for (const auto* r : routes) {
      if (!permitted(guard_.get(), *r, *events[e])) continue;
      plan.emplace_back(e, r->dispatcher.get());
      durable |= r->sub.durable;
    }
  }
  return enqueue(std::move(snap), events, plan, durable ? &defer : nullptr);
}

// The ingress stage transforms, drops or routes events by name; routing by content
// then sees the admitted events only.
std::optional<Result<PublishReceipt>> Runtime::publish_admitted(std::span<const EventPtr> events,
                                                                const DeferPublish& defer) {
  std::vector<AdmittedEvent> admitted;
  if (auto ok = ingress_->admit(events, admitted); !ok) return std::unexpected(ok.error());
  auto snap = table_->snapshot();
  std::vector<EventPtr> out;
  std::vector<const Route*> routes;
  std::vector<std::pair<std::uint32_t, Dispatcher*>> plan;
  bool durable = false;
  for (std::uint32_t e = 0; e < admitted.size(); ++e) {
    const auto& a = admitted[e];
    out.push_back(a.event);
    routes.clear();
    if (!a.routes_only) snap->match(*a.event, routes);
    for (const auto& id : a.routes) {
      auto at = snap->find(id);
      if (!at) {
        spdlog::warn("event {}: route to subscription '{}', which does not exist", a.event->id(), id);
        continue;
      }
      if (std::ranges::find(routes, at->route) == routes.end()) routes.push_back(at->route);
    }
    for (const auto* r : routes) {
      if (!permitted(guard_.get(), *r, *a.event)) continue;
      plan.emplace_back(e, r->dispatcher.get());
      durable |= r->sub.durable;
    }
  }
  auto queued = enqueue(std::move(snap), out, plan, durable ? &defer : nullptr);
  if (queued && *queued) **queued = {events.size(), plan.size(), events.size() - admitted.size()};
  return queued;
}

std::optional<Result<PublishReceipt>> Runtime::enqueue(
    std::shared_ptr<const detail::Snapshot> snap, std::span<const EventPtr> events,
    std::span<const std::pair<std::uint32_t, Dispatcher*>> plan, const DeferPublish* defer) {
  if (events.size() > 1)
    if (auto over = over_capacity(plan)) return std::unexpected(std::move(*over));
  // Reserve every slot first so a full queue rejects the whole publish.
  for (std::size_t i = 0; i < plan.size(); ++i) {
    auto& dispatcher = *plan[i].second;
    if (!dispatcher.try_reserve()) {
      for (std::size_t j = 0; j < i; ++j) plan[j].second->release();
      return fail(Errc::overloaded, "subscription '" + dispatcher.subscription_id() +
                                        "' has a full delivery queue; retry later");
    }
  }
  if (defer) {  // a durable subscription is in the plan: commit first
    committer_->submit(
        {std::move(snap), {events.begin(), events.end()}, {plan.begin(), plan.end()}, (*defer)()});
    return std::nullopt;
  }
  const auto now = Dispatcher::Clock::now();
  for (auto [e, d] : plan) d->push(events[e], now);
  return PublishReceipt{events.size(), plan.size()};
}

void Runtime::shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
  accepting_.store(false, std::memory_order_release);
  auto routes = table_->snapshot()->routes();
  struct Drain {
    Drain(asio::any_io_executor ex, std::function<void(bool)> cb,
          std::vector<std::shared_ptr<const Route>> rs)
        : remaining(rs.size()), done(std::move(cb)), timer(std::move(ex)), routes(std::move(rs)) {}
    std::mutex mutex;
    std::size_t remaining;
    bool finished = false;
    std::function<void(bool)> done;
    asio::steady_timer timer;
    std::vector<std::shared_ptr<const Route>> routes;
  };
  auto drain = std::make_shared<Drain>(ex_, std::move(done), routes);
  drain->timer.expires_after(timeout);
  auto finish = [drain](bool drained) {
    {
      std::lock_guard lock(drain->mutex);
      if (drain->finished) return;
      drain->finished = true;
    }
    drain->timer.cancel();
    for (const auto& r : drain->routes) r->dispatcher->stop();
    asio::post(drain->timer.get_executor(), [drain, drained] { drain->done(drained); });
  };
  if (routes.empty()) return finish(true);
  drain->timer.async_wait([finish](auto ec) {
    if (!ec) finish(false);
  });
  for (const auto& r : routes) {
    r->dispatcher->when_idle([drain, finish] {
      bool all_idle;
      {
        std::lock_guard lock(drain->mutex);
        all_idle = --drain->remaining == 0;
      }
      if (all_idle) finish(true);
    });
  }
}

}  // namespace evmesh
