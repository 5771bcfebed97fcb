#include "evmesh/runtime/runtime.h"

#include <algorithm>
#include <random>

#include "route_table.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
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
          detail::RouteTableOptions{options.index_delta_capacity, options.index_merge_min})) {}

Runtime::~Runtime() {
  for (const auto& r : table_->snapshot()->routes()) r->dispatcher->stop();
}

Result<RoutePtr> Runtime::make_route(Subscription sub, std::uint64_t seq) {
  auto sink = sinks_.make(sub.sink);
  if (!sink) return std::unexpected(sink.error());
  std::shared_ptr<Sink> dead_letter;
  if (sub.delivery.dead_letter) {
    auto dl = sinks_.make(*sub.delivery.dead_letter);
    if (!dl) {
      auto err = dl.error();
      err.pointer = "delivery.deadlettersink";
      return std::unexpected(std::move(err));
    }
    dead_letter = std::move(*dl);
  }
  auto dispatcher = std::make_shared<Dispatcher>(ex_, sub.id, sub.delivery, std::move(*sink),
                                                 std::move(dead_letter));
  auto filters = sub.effective_filters();
  return std::make_shared<const Route>(
      Route{std::move(sub), std::move(filters), std::move(dispatcher), seq});
}

Result<Subscription> Runtime::create(Subscription sub) {
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
  auto dispatcher = at->route->dispatcher;
  table_->erase(*at);
  dispatcher->stop();
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
  if (!accepting_.load(std::memory_order_acquire))
    return fail(Errc::shutting_down, "the broker is shutting down");
  if (ingress_ && ingress_->active()) return publish_admitted(events);
  // The snapshot keeps every route in the plan alive until we return.
  auto snap = table_->snapshot();
  // (event, route) pairs; thread-local buffers keep the hot path allocation-free.
  thread_local std::vector<const Route*> routes;
  thread_local std::vector<std::pair<std::uint32_t, Dispatcher*>> plan;
  plan.clear();
  for (std::uint32_t e = 0; e < events.size(); ++e) {
    routes.clear();
    snap->match(*events[e], routes);
    for (const auto* r : routes)
      if (permitted(guard_.get(), *r, *events[e])) plan.emplace_back(e, r->dispatcher.get());
  }
  if (auto queued = enqueue(events, plan); !queued) return std::unexpected(queued.error());
  return PublishReceipt{events.size(), plan.size()};
}

// The ingress stage transforms, drops or routes events by name; routing by content
// then sees the admitted events only.
Result<PublishReceipt> Runtime::publish_admitted(std::span<const EventPtr> events) {
  std::vector<AdmittedEvent> admitted;
  if (auto ok = ingress_->admit(events, admitted); !ok) return std::unexpected(ok.error());
  auto snap = table_->snapshot();
  std::vector<EventPtr> out;
  std::vector<const Route*> routes;
  std::vector<std::pair<std::uint32_t, Dispatcher*>> plan;
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
    for (const auto* r : routes)
      if (permitted(guard_.get(), *r, *a.event)) plan.emplace_back(e, r->dispatcher.get());
  }
  if (auto queued = enqueue(out, plan); !queued) return std::unexpected(queued.error());
  return PublishReceipt{events.size(), plan.size(), events.size() - admitted.size()};
}

Result<void> Runtime::enqueue(std::span<const EventPtr> events,
                              std::span<const std::pair<std::uint32_t, Dispatcher*>> plan) {
  // Reserve every slot first so a full queue rejects the whole publish.
  for (std::size_t i = 0; i < plan.size(); ++i) {
    auto& dispatcher = *plan[i].second;
    if (!dispatcher.try_reserve()) {
      for (std::size_t j = 0; j < i; ++j) plan[j].second->release();
      return fail(Errc::overloaded, "subscription '" + dispatcher.subscription_id() +
                                        "' has a full delivery queue; retry later");
    }
  }
  const auto now = Dispatcher::Clock::now();
  for (auto [e, d] : plan) d->push(events[e], now);
  return {};
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
