// Property: for random subscriptions in every dialect (exact, prefix, suffix, glob,
// pattern over attributes and data, sql, all/any/not around them) and random events
// with random JSON data, SubscriptionIndex::match returns exactly the keys a naive
// scan finds, each once. The naive scan evaluates with a fresh context per entry, so
// the index's shared per-event context is checked too. Reproduce a failure with
// EVMESH_FILTER_SEED=<seed>.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "random_source.h"
#include <nlohmann/json.hpp>

#include "evmesh/filter/subscription_index.h"

namespace evmesh::filter {
namespace {

using json = nlohmann::json;
using Keys = std::vector<std::uint32_t>;

using testing::Random;

constexpr const char* kAttrs[] = {"type", "source", "subject", "xa", "xb"};
constexpr const char* kStrings[] = {"a", "ab", "a.b", "a.bc", "b.a", "ab.c", "A", "x"};
constexpr const char* kKeys[] = {"k", "n", "s"};
constexpr double kNumbers[] = {-1, 0, 1, 1.5, 2, 10};

json random_scalar(Random& r) {
  switch (r.below(6)) {
    case 0: return nullptr;
    case 1: return r.chance(0.5);
    case 2:
    case 3: return r.pick(kNumbers);
    default: return r.pick(kStrings);
  }
}

json random_data(Random& r, int depth) {
  if (depth >= 3 || r.chance(0.3)) return random_scalar(r);
  if (r.chance(0.25)) {
    json a = json::array();
    for (std::size_t i = r.below(4); i > 0; --i) a.push_back(random_data(r, depth + 1));
    return a;
  }
  json o = json::object();
  for (std::size_t i = r.below(4); i > 0; --i) o[r.pick(kKeys)] = random_data(r, depth + 1);
  return o;
}

std::string random_glob(Random& r) {
  constexpr const char* kParts[] = {"a", "b", "*", "**", ".", "c"};
  std::string g;
  for (std::size_t i = 1 + r.below(4); i > 0; --i) {
    std::string p = r.pick(kParts);
    if (p[0] == '*' && !g.empty() && g.back() == '*') continue;
    g += p;
  }
  return g;
}

json random_matcher(Random& r, bool attribute) {
  switch (r.below(attribute ? 8 : 11)) {
    case 0: return {{"prefix", r.pick(kStrings)}};
    case 1: return {{"suffix", r.pick(kStrings)}};
    case 2: return {{"equals-ignore-case", r.pick(kStrings)}};
    case 3: return {{"wildcard", r.chance(0.5) ? "a*" : "*.b*"}};
    case 4: return {{"exists", r.chance(0.5)}};
    case 5: return {{"anything-but", r.chance(0.5) ? json(r.pick(kStrings)) : json{{"prefix", "a"}}}};
    case 6: {
      double lo = r.pick(kNumbers);
      return r.chance(0.5) ? json{{"numeric", {">=", lo}}} : json{{"numeric", {">", lo, "<=", lo + 1}}};
    }
    case 7: return r.pick(kStrings);
    default: return random_scalar(r);
  }
}

json random_values(Random& r, bool attribute) {
  json list = json::array();
  for (std::size_t i = 1 + r.below(2); i > 0; --i)
    list.push_back(r.chance(0.5) ? (attribute ? json(r.pick(kStrings)) : random_scalar(r))
                                 : random_matcher(r, attribute));
  return list;
}

json random_data_pattern(Random& r, int depth) {
  json o = json::object();
  for (std::size_t i = 1 + r.below(2); i > 0; --i) {
    std::string key = r.pick(kKeys);
    o[key] = depth < 2 && r.chance(0.3) ? random_data_pattern(r, depth + 1) : random_values(r, false);
  }
  if (depth == 1 && r.chance(0.15)) o["$or"] = {random_data_pattern(r, 2), random_data_pattern(r, 2)};
  return o;
}

json random_pattern(Random& r) {
  json p = json::object();
  if (r.chance(0.6)) p[r.pick(kAttrs)] = random_values(r, true);
  if (r.chance(0.6) || p.empty()) p["data"] = random_data_pattern(r, 1);
  if (r.chance(0.1)) p["$or"] = {json{{"type", {"a"}}}, json{{"data", {{"k", {1}}}}}};
  return p;
}

std::string random_sql(Random& r) {
  auto term = [&]() -> std::string {
    switch (r.below(4)) {
      case 0: return std::string(r.pick(kAttrs)) + " = '" + r.pick(kStrings) + "'";
      case 1: return std::string(r.pick(kAttrs)) + " LIKE '" + r.pick(kStrings) + "%'";
      case 2: return std::string("data.") + r.pick(kKeys) + " = '" + r.pick(kStrings) + "'";
      default: return std::string("NOT (") + r.pick(kAttrs) + " = '" + r.pick(kStrings) + "')";
    }
  };
  std::string s = term();
  for (std::size_t i = r.below(3); i > 0; --i) s += (r.chance(0.7) ? " AND " : " OR ") + term();
  return s;
}

FilterPtr random_filter(Random& r, int depth) {
  std::size_t kind = depth >= 3 ? r.below(6) : r.below(9);
  std::string attr = r.pick(kAttrs);
  switch (kind) {
    case 0: return exact(attr, r.pick(kStrings));
    case 1: return prefix(attr, r.pick(kStrings));
    case 2: return suffix(attr, r.pick(kStrings));
    case 3: {
      auto g = glob(attr, random_glob(r));
      EXPECT_TRUE(g) << g.error().message;
      return *g;
    }
    case 4: {
      json body = random_pattern(r);
      auto p = pattern(body);
      EXPECT_TRUE(p) << body.dump() << ": " << p.error().message;
      return *p;
    }
    case 5: {
      std::string text = random_sql(r);
      auto f = sql(text);
      EXPECT_TRUE(f) << text << ": " << f.error().message;
      return f ? *f : exact("type", "a");
    }
    case 8: return negate(random_filter(r, depth + 1));
    default: {
      std::vector<FilterPtr> children(1 + r.below(3));
      for (auto& c : children) c = random_filter(r, depth + 1);
      return kind == 6 ? all(std::move(children)) : any(std::move(children));
    }
  }
}

EventPtr random_event(Random& r) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", r.pick(kStrings));
  b.set("type", r.pick(kStrings));
  if (r.chance(0.6)) b.set("subject", r.pick(kStrings));
  if (r.chance(0.4)) b.set("xa", r.pick(kStrings));
  if (r.chance(0.3)) b.set("xb", r.pick(kStrings));
  if (r.chance(0.85)) {
    json d = random_data(r, 0);
    if (r.chance(0.8)) d = json::object({{"k", random_data(r, 1)}, {"n", random_scalar(r)}, {"s", random_data(r, 1)}});
    b.data(d.dump());
    if (r.chance(0.1)) b.set("datacontenttype", "text/plain");
  }
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev) << ev.error().message;
  return *ev;
}

TEST(SubscriptionIndexDialectsProperty, MatchEqualsNaiveEvaluation) {
  std::uint64_t seed = 20240612;
  if (const char* s = std::getenv("EVMESH_FILTER_SEED")) seed = std::strtoull(s, nullptr, 10);
  Random r(seed);
  std::size_t cases = 0, hits = 0, residual = 0, anchored = 0, data_anchors = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<IndexEntry> entries(r.below(round < 150 ? 12 : 100));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      entries[i].key = static_cast<std::uint32_t>(i * 5 + 1);
      entries[i].filters.resize(r.below(3) + (r.chance(0.8) ? 1 : 0));
      for (auto& f : entries[i].filters) f = random_filter(r, 1);
    }
    auto index = SubscriptionIndex::build(entries);
    residual += index->stats().residual;
    anchored += entries.size() - index->stats().residual;
    data_anchors += index->stats().data_anchors;
    for (int e = 0; e < 30; ++e, ++cases) {
      auto ev = random_event(*&r);
      Keys got;
      index->match(*ev, got);
      std::sort(got.begin(), got.end());
      Keys want;
      for (const auto& entry : entries)
        if (matches_all(entry.filters, *ev)) want.push_back(entry.key);
      std::sort(want.begin(), want.end());
      hits += want.size();
      if (got == want) continue;
      std::ostringstream why;
      why << "seed " << seed << " (EVMESH_FILTER_SEED), round " << round << ", event " << e << "\nevent: ";
      ev->for_each_attribute([&](std::string_view k, std::string_view v) { why << k << '=' << v << ' '; });
      if (ev->has_data()) why << "data=" << *ev->data();
      why << "\n";
      for (const auto& entry : entries) {
        bool in_got = std::binary_search(got.begin(), got.end(), entry.key);
        bool in_want = std::binary_search(want.begin(), want.end(), entry.key);
        if (in_got != in_want || std::count(got.begin(), got.end(), entry.key) > 1)
          why << "key " << entry.key << (in_want ? " missed" : " extra/duplicate") << ": "
              << to_json(entry.filters).dump() << "\n";
      }
      FAIL() << why.str();
    }
  }
  EXPECT_GT(hits, cases / 2);
  EXPECT_GT(anchored, residual);
  EXPECT_GT(data_anchors, 0u);
  std::cout << "[ property ] seed " << seed << ": " << cases << " events, " << hits << " matches, "
            << anchored << " anchored / " << residual << " residual entries, " << data_anchors
            << " data anchors\n";
}

}  // namespace
}  // namespace evmesh::filter
