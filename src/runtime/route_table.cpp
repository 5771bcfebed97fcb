#include "route_table.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace evmesh::detail {
namespace {

constexpr std::uint32_t kGone = std::numeric_limits<std::uint32_t>::max();

// The live routes of `layer`, appended to `out`.
void append_live(const Layer& layer, std::vector<RoutePtr>& out) {
  const auto& routes = layer.segment->routes();
  for (std::uint32_t i = 0; i < routes.size(); ++i)
    if (!layer.is_dead(i)) out.push_back(routes[i]);
}

Layer fresh(std::vector<RoutePtr> routes) { return Layer{Segment::build(std::move(routes)), nullptr}; }

}  // namespace

std::shared_ptr<const Segment> Segment::build(std::vector<RoutePtr> routes) {
  auto seg = std::make_shared<Segment>();
  std::vector<filter::IndexEntry> entries;
  entries.reserve(routes.size());
  seg->by_id_.reserve(routes.size());
  for (std::uint32_t i = 0; i < routes.size(); ++i) {
    entries.push_back({i, routes[i]->filters});
    seg->by_id_.emplace(routes[i]->sub.id, i);
  }
  seg->index_ = filter::SubscriptionIndex::build(std::move(entries));
  seg->routes_ = std::move(routes);
  return seg;
}

std::optional<std::uint32_t> Segment::find(std::string_view id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

bool Layer::is_dead(std::uint32_t pos) const {
  return dead && std::binary_search(dead->begin(), dead->end(), pos);
}

std::optional<Snapshot::Location> Snapshot::find(std::string_view id) const {
  // Newest first: a replaced route leaves a dead copy in an older layer.
  for (std::size_t l = layers_.size(); l-- > 0;) {
    const auto& layer = layers_[l];
    if (auto pos = layer.segment->find(id); pos && !layer.is_dead(*pos))
      return Location{layer.segment->routes()[*pos].get(), l, *pos};
  }
  return std::nullopt;
}

void Snapshot::match(const Event& ev, std::vector<const Route*>& out) const {
  thread_local std::vector<std::uint32_t> keys;
  for (const auto& layer : layers_) {
    if (layer.segment->size() == 0) continue;
    keys.clear();
    layer.segment->index().match(ev, keys);
    const auto& routes = layer.segment->routes();
    for (auto k : keys)
      if (!layer.is_dead(k)) out.push_back(routes[k].get());
  }
}

std::vector<RoutePtr> Snapshot::routes() const {
  std::vector<RoutePtr> out;
  out.reserve(live_);
  for (const auto& layer : layers_) append_live(layer, out);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->seq < b->seq; });
  return out;
}

RouteTable::RouteTable(boost::asio::any_io_executor ex, RouteTableOptions options)
    : ex_(std::move(ex)), options_(options) {
  options_.delta_capacity = std::max<std::size_t>(options_.delta_capacity, 1);
  install({fresh({})});
}

void RouteTable::install(std::vector<Layer> layers) {
  auto snap = std::make_shared<Snapshot>();
  for (const auto& l : layers) snap->live_ += l.live();
  snap->layers_ = std::move(layers);
  snapshot_.store(std::move(snap), std::memory_order_release);
}

void RouteTable::insert(RoutePtr route) {
  auto snap = snapshot();
  auto layers = snap->layers_;
  // Layers before `open` are the base or frozen for the merge in flight.
  const std::size_t open = std::max<std::size_t>(frozen_, 1);
  if (layers.size() > open && layers.back().segment->size() < options_.delta_capacity) {
    std::vector<RoutePtr> routes;
    append_live(layers.back(), routes);
    routes.push_back(std::move(route));
    layers.back() = fresh(std::move(routes));
  } else if (layers.size() > open + 1) {
    // The delta is full: fold it into the run before it, then take the route.
    std::vector<RoutePtr> routes;
    append_live(layers[layers.size() - 2], routes);
    append_live(layers.back(), routes);
    routes.push_back(std::move(route));
    layers.pop_back();
    layers.back() = fresh(std::move(routes));
  } else {
    layers.push_back(fresh({std::move(route)}));
  }
  install(std::move(layers));
  maybe_merge(*snapshot());
}

void RouteTable::erase(const Snapshot::Location& at) {
  auto layers = snapshot()->layers_;
  auto& layer = layers.at(at.layer);
  auto dead = layer.dead ? std::vector<std::uint32_t>(*layer.dead) : std::vector<std::uint32_t>{};
  dead.insert(std::lower_bound(dead.begin(), dead.end(), at.pos), at.pos);
  layer.dead = std::make_shared<const std::vector<std::uint32_t>>(std::move(dead));
  install(std::move(layers));
  maybe_merge(*snapshot());
}

std::size_t RouteTable::merge_threshold(const Snapshot& snap) const {
  // A merge costs O(n); spacing merges O(sqrt n) writes apart keeps both the merge
  // work per write and the size of the runs the writer rebuilds at O(sqrt n).
  const auto base = static_cast<double>(snap.layers_.front().segment->size());
  return std::max(options_.merge_min, static_cast<std::size_t>(4.0 * std::sqrt(base)));
}

void RouteTable::maybe_merge(const Snapshot& snap) {
  if (frozen_ != 0) return;
  std::size_t pending = snap.layers_.front().dead_count();
  for (std::size_t l = 1; l < snap.layers_.size(); ++l) pending += snap.layers_[l].segment->size();
  if (pending < merge_threshold(snap)) return;
  frozen_ = snap.layers_.size();
  boost::asio::post(ex_, [weak = weak_from_this(), frozen = snap.layers_]() mutable {
    if (auto self = weak.lock()) self->merge(std::move(frozen));
  });
}

void RouteTable::merge(std::vector<Layer> frozen) {
  // Build the new base without the lock; remember where each old position went.
  std::size_t total = 0;
  for (const auto& l : frozen) total += l.live();
  std::vector<RoutePtr> routes;
  routes.reserve(total);
  std::vector<std::vector<std::uint32_t>> moved(frozen.size());
  for (std::size_t l = 0; l < frozen.size(); ++l) {
    const auto& seg_routes = frozen[l].segment->routes();
    moved[l].assign(seg_routes.size(), kGone);
    for (std::uint32_t i = 0; i < seg_routes.size(); ++i) {
      if (frozen[l].is_dead(i)) continue;
      moved[l][i] = static_cast<std::uint32_t>(routes.size());
      routes.push_back(seg_routes[i]);
    }
  }
  auto base = Segment::build(std::move(routes));

  std::lock_guard lock(write_mutex_);
  auto layers = snapshot()->layers_;
  // Writers never restructure frozen layers, only add tombstones to them: carry
  // those over, mapped to the new positions.
  std::vector<std::uint32_t> dead;
  for (std::size_t l = 0; l < frozen.size(); ++l) {
    const auto& now = layers[l];
    if (now.segment != frozen[l].segment) {
      spdlog::error("route table: merge found layer {} restructured; merge dropped", l);
      frozen_ = 0;
      return;
    }
    if (!now.dead) continue;
    for (auto pos : *now.dead)
      if (!frozen[l].is_dead(pos)) dead.push_back(moved[l][pos]);
  }
  std::sort(dead.begin(), dead.end());
  std::vector<Layer> next;
  next.reserve(layers.size() - frozen.size() + 1);
  next.push_back(Layer{std::move(base), dead.empty() ? nullptr
                                                     : std::make_shared<const std::vector<std::uint32_t>>(
                                                           std::move(dead))});
  for (std::size_t l = frozen.size(); l < layers.size(); ++l) next.push_back(std::move(layers[l]));
  frozen_ = 0;
  merges_.fetch_add(1, std::memory_order_relaxed);
  install(std::move(next));
  maybe_merge(*snapshot());
}

RoutingStats RouteTable::stats() const {
  RoutingStats s;
  auto snap = snapshot();
  s.layers = snap->layers_.size();
  s.base = snap->layers_.front().segment->size();
  for (std::size_t l = 0; l < snap->layers_.size(); ++l) {
    if (l > 0) s.runs += snap->layers_[l].segment->size();
    s.dead += snap->layers_[l].dead_count();
  }
  s.merges = merges_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(write_mutex_);
    s.merging = frozen_ != 0;
  }
  return s;
}

}  // namespace evmesh::detail
