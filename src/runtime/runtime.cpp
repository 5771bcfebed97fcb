#include "evmesh/runtime/runtime.h"

#include <random>

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

struct Runtime::Route {
  Subscription sub;
  std::shared_ptr<Dispatcher> dispatcher;
};

struct Runtime::Snapshot {
  std::vector<std::shared_ptr<const Route>> routes;  // index keys are positions here
  std::shared_ptr<const filter::SubscriptionIndex> index;
};

Runtime::Runtime(asio::any_io_executor ex, RuntimeOptions options, SinkFactory& sinks)
    : ex_(std::move(ex)), options_(options), sinks_(sinks) {
  std::lock_guard lock(write_mutex_);
  install({});
}

Runtime::~Runtime() {
  for (const auto& r : snapshot()->routes) r->dispatcher->stop();
}

std::shared_ptr<const Runtime::Snapshot> Runtime::snapshot() const {
  return snapshot_.load(std::memory_order_acquire);
}

void Runtime::install(std::vector<std::shared_ptr<const Route>> routes) {
  std::vector<filter::IndexEntry> entries;
  entries.reserve(routes.size());
  for (std::uint32_t i = 0; i < routes.size(); ++i)
    entries.push_back({i, routes[i]->sub.effective_filters()});
  auto snap = std::make_shared<Snapshot>();
  snap->index = filter::SubscriptionIndex::build(std::move(entries));
  snap->routes = std::move(routes);
  snapshot_.store(std::move(snap), std::memory_order_release);
}

Result<std::shared_ptr<const Runtime::Route>> Runtime::make_route(Subscription sub) {
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
  return std::make_shared<const Route>(Route{std::move(sub), std::move(dispatcher)});
}

Result<Subscription> Runtime::create(Subscription sub) {
  std::lock_guard lock(write_mutex_);
  auto routes = snapshot()->routes;
  if (routes.size() >= options_.max_subscriptions)
    return fail(Errc::limit_reached,
                "the subscription limit (" + std::to_string(options_.max_subscriptions) +
                    ") is reached");
  if (sub.id.empty()) sub.id = generate_id();
  for (const auto& r : routes)
    if (r->sub.id == sub.id)
      return fail(Errc::conflict, "subscription '" + sub.id + "' already exists", "id");
  auto route = make_route(std::move(sub));
  if (!route) return std::unexpected(route.error());
  Subscription created = (*route)->sub;
  routes.push_back(std::move(*route));
  install(std::move(routes));
  spdlog::info("subscription {} created, sink {}", created.id, created.sink.uri);
  return created;
}

Result<Subscription> Runtime::replace(std::string_view id, Subscription sub) {
  std::lock_guard lock(write_mutex_);
  auto routes = snapshot()->routes;
  auto it = std::find_if(routes.begin(), routes.end(), [&](auto& r) { return r->sub.id == id; });
  if (it == routes.end())
    return fail(Errc::not_found, "subscription '" + std::string(id) + "' does not exist");
  sub.id = std::string(id);
  auto route = make_route(std::move(sub));
  if (!route) return std::unexpected(route.error());
  // The old dispatcher finishes what it holds on the old sink, then stops.
  auto old = (*it)->dispatcher;
  old->when_idle([old] { old->stop(); });
  Subscription replaced = (*route)->sub;
  *it = std::move(*route);
  install(std::move(routes));
  spdlog::info("subscription {} replaced, sink {}", replaced.id, replaced.sink.uri);
  return replaced;
}

Result<Subscription> Runtime::remove(std::string_view id) {
  std::lock_guard lock(write_mutex_);
  auto routes = snapshot()->routes;
  auto it = std::find_if(routes.begin(), routes.end(), [&](auto& r) { return r->sub.id == id; });
  if (it == routes.end())
    return fail(Errc::not_found, "subscription '" + std::string(id) + "' does not exist");
  auto old = *it;
  routes.erase(it);
  install(std::move(routes));
  old->dispatcher->stop();
  spdlog::info("subscription {} deleted", id);
  return old->sub;
}

std::optional<Subscription> Runtime::get(std::string_view id) const {
  for (const auto& r : snapshot()->routes)
    if (r->sub.id == id) return r->sub;
  return std::nullopt;
}

std::vector<Subscription> Runtime::list() const {
  std::vector<Subscription> out;
  for (const auto& r : snapshot()->routes) out.push_back(r->sub);
  return out;
}

std::optional<DispatcherStats> Runtime::stats(std::string_view id) const {
  for (const auto& r : snapshot()->routes)
    if (r->sub.id == id) return r->dispatcher->stats();
  return std::nullopt;
}

Result<PublishReceipt> Runtime::publish(std::span<const EventPtr> events) {
  if (!accepting_.load(std::memory_order_acquire))
    return fail(Errc::shutting_down, "the broker is shutting down");
  auto snap = snapshot();
  // (event, route) pairs; thread-local buffers keep the hot path allocation-free.
  thread_local std::vector<std::uint32_t> keys;
  thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> plan;
  plan.clear();
  for (std::uint32_t e = 0; e < events.size(); ++e) {
    keys.clear();
    snap->index->match(*events[e], keys);
    for (auto k : keys) plan.emplace_back(e, k);
  }
  // Reserve every slot first so a full queue rejects the whole publish.
  for (std::size_t i = 0; i < plan.size(); ++i) {
    auto& dispatcher = *snap->routes[plan[i].second]->dispatcher;
    if (!dispatcher.try_reserve()) {
      for (std::size_t j = 0; j < i; ++j) snap->routes[plan[j].second]->dispatcher->release();
      return fail(Errc::overloaded, "subscription '" + dispatcher.subscription_id() +
                                        "' has a full delivery queue; retry later");
    }
  }
  const auto now = Dispatcher::Clock::now();
  for (auto [e, k] : plan) snap->routes[k]->dispatcher->push(events[e], now);
  return PublishReceipt{events.size(), plan.size()};
}

void Runtime::shutdown(std::chrono::milliseconds timeout, std::function<void(bool)> done) {
  accepting_.store(false, std::memory_order_release);
  auto routes = snapshot()->routes;
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
