#include "evmesh/filter/subscription_index.h"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "random_source.h"
#include <nlohmann/json.hpp>

namespace evmesh::filter {
namespace {

using Keys = std::vector<std::uint32_t>;

EventPtr event(std::vector<std::pair<std::string, std::string>> attrs) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s").set("type", "t");
  for (auto& [k, v] : attrs) b.set(k, v);
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev.has_value()) << ev.error().message;
  return *ev;
}

Keys match(const SubscriptionIndex& index, const Event& ev) {
  Keys out;
  index.match(ev, out);
  std::sort(out.begin(), out.end());
  return out;
}

Keys naive(const std::vector<IndexEntry>& entries, const Event& ev) {
  Keys out;
  for (const auto& e : entries)
    if (matches_all(e.filters, ev)) out.push_back(e.key);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SubscriptionIndex, EmptyIndexMatchesNothingAndAppends) {
  auto index = SubscriptionIndex::build({});
  EXPECT_EQ(index->size(), 0u);
  Keys out{42};
  index->match(*event({}), out);
  EXPECT_EQ(out, Keys{42});  // appends; never clears
}

TEST(SubscriptionIndex, ExactPrefixSuffixAndResidual) {
  std::vector<IndexEntry> entries = {
      {10, {exact("type", "order.created")}},
      {11, {exact("type", "order.deleted")}},
      {12, {prefix("source", "/shop/")}},
      {13, {prefix("source", "/shop/eu/")}},
      {14, {prefix("source", "/")}},
      {15, {suffix("subject", ".jpg")}},
      {16, {suffix("subject", "cat.jpg")}},
      {17, {negate(exact("type", "order.created"))}},  // residual
      {18, {}},                                          // residual, matches everything
  };
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(index->size(), 9u);
  auto st = index->stats();
  EXPECT_EQ(st.entries, 9u);
  EXPECT_EQ(st.residual, 2u);
  EXPECT_EQ(st.exact_anchors, 2u);
  EXPECT_EQ(st.prefix_anchors, 3u);
  EXPECT_EQ(st.suffix_anchors, 2u);

  auto ev = event({{"type", "order.created"}, {"source", "/shop/eu/fr"}, {"subject", "a/cat.jpg"}});
  EXPECT_EQ(match(*index, *ev), (Keys{10, 12, 13, 14, 15, 16, 18}));
  ev = event({{"type", "order.deleted"}, {"source", "/shop/us"}, {"subject", "dog.jpg"}});
  EXPECT_EQ(match(*index, *ev), (Keys{11, 12, 14, 15, 17, 18}));
  ev = event({{"type", "order"}, {"source", "shop"}});  // no subject
  EXPECT_EQ(match(*index, *ev), (Keys{17, 18}));
}

TEST(SubscriptionIndex, AnchorIsVerifiedAgainstTheWholeConjunction) {
  std::vector<IndexEntry> entries = {
      {1, {exact("type", "t"), prefix("source", "/a")}},
      {2, {all({exact("type", "t"), negate(suffix("subject", ".tmp"))})}},
  };
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(match(*index, *event({{"source", "/a/b"}, {"subject", "x.tmp"}})), Keys{1});
  EXPECT_EQ(match(*index, *event({{"source", "/b"}, {"subject", "x"}})), Keys{2});
  EXPECT_EQ(match(*index, *event({{"type", "u"}, {"source", "/a"}})), Keys{});
}

TEST(SubscriptionIndex, PrefersExactThenPrefixThenSuffixAndLooksInsideAll) {
  auto pick = [](std::vector<FilterPtr> filters) {
    return SubscriptionIndex::build({{0, std::move(filters)}})->stats();
  };
  auto st = pick({suffix("subject", ".jpg"), prefix("source", "/a"), exact("type", "t")});
  EXPECT_EQ(st.exact_anchors, 1u);
  EXPECT_EQ(st.prefix_anchors + st.suffix_anchors, 0u);

  st = pick({suffix("subject", ".jpg"), all({negate(exact("type", "t")), prefix("source", "/a")})});
  EXPECT_EQ(st.prefix_anchors, 1u);
  EXPECT_EQ(st.exact_anchors + st.suffix_anchors + st.residual, 0u);

  st = pick({negate(negate(suffix("subject", ".jpg")))});
  EXPECT_EQ(st.suffix_anchors, 1u);

  // One exact beats an any of two exacts; an any of exacts beats a prefix.
  st = pick({any({exact("type", "a"), exact("type", "b")}), exact("source", "/s")});
  EXPECT_EQ(st.exact_anchors, 1u);
  st = pick({any({exact("type", "a"), exact("type", "b")}), prefix("source", "/s")});
  EXPECT_EQ(st.exact_anchors, 2u);
  EXPECT_EQ(st.prefix_anchors, 0u);

  // Not indexable: any with an opaque branch, a lone not, nothing at all.
  EXPECT_EQ(pick({any({exact("type", "a"), negate(exact("type", "b"))})}).residual, 1u);
  EXPECT_EQ(pick({negate(prefix("source", "/"))}).residual, 1u);
  EXPECT_EQ(pick({}).residual, 1u);
}

TEST(SubscriptionIndex, AnyAnchorsReportOnceEvenWhenSeveralBranchesHold) {
  std::vector<IndexEntry> entries = {
      {1, {any({exact("type", "t"), prefix("source", "/a"), suffix("source", "b"), exact("type", "t")})}},
      {2, {any({prefix("source", "/"), prefix("source", "/a")}), suffix("subject", "s")}},
  };
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(index->stats().residual, 0u);
  EXPECT_EQ(index->stats().prefix_anchors, 3u);  // entry 2 sits under both prefixes
  // Every branch of 1 holds; both branches of 2 hold.
  EXPECT_EQ(match(*index, *event({{"source", "/ab"}, {"subject", "s"}})), (Keys{1, 2}));
  EXPECT_EQ(match(*index, *event({{"type", "u"}, {"source", "/xb"}})), Keys{1});
  EXPECT_EQ(match(*index, *event({{"type", "u"}, {"source", "x"}, {"subject", "s"}})), Keys{});
}

TEST(SubscriptionIndex, ExtensionsAndManyAttributes) {
  // More anchored attributes than the event carries: the index walks the event's
  // attributes instead of its own list. Both ways must agree.
  std::vector<IndexEntry> entries;
  for (std::uint32_t i = 0; i < 20; ++i)
    entries.push_back({i, {exact("ext" + std::to_string(i), "v")}});
  entries.push_back({100, {prefix("type", "t")}});
  auto index = SubscriptionIndex::build(entries);
  EXPECT_EQ(match(*index, *event({{"ext3", "v"}, {"ext17", "v"}, {"ext5", "w"}})), (Keys{3, 17, 100}));
  EXPECT_EQ(match(*index, *event({})), Keys{100});
}

TEST(SubscriptionIndex, SharedPrefixesAndSuffixesInOneTree) {
  std::vector<IndexEntry> entries;
  const char* values[] = {"a", "ab", "abc", "abd", "b", "abcdef", "x/y", "x"};
  std::uint32_t key = 0;
  for (const char* v : values) {
    entries.push_back({key++, {prefix("subject", v)}});
    entries.push_back({key++, {suffix("subject", v)}});
  }
  auto index = SubscriptionIndex::build(entries);
  for (const char* s : {"abcdef", "abc", "ab", "abdx", "cba", "x/y", "zx", "q", "fedcba", "b"}) {
    auto ev = event({{"subject", s}});
    EXPECT_EQ(match(*index, *ev), naive(entries, *ev)) << s;
  }
}

TEST(SubscriptionIndex, ConcurrentMatchIsSafe) {
  std::vector<IndexEntry> entries;
  for (std::uint32_t i = 0; i < 1000; ++i)
    entries.push_back({i, {prefix("source", "/n/" + std::to_string(i % 50))}});
  auto index = SubscriptionIndex::build(entries);
  auto ev = event({{"source", "/n/17/x"}});
  const Keys expected = naive(entries, *ev);
  auto run = [&] {
    for (int i = 0; i < 2000; ++i)
      if (match(*index, *ev) != expected) return false;
    return true;
  };
  bool a = false, b = false;
  std::thread t1([&] { a = run(); }), t2([&] { b = run(); });
  t1.join();
  t2.join();
  EXPECT_TRUE(a && b);
}

// ---- property test: index.match == naive scan over random filters and events ----

using testing::Random;

// Few attributes and short overlapping values, so that random filters match often.
// 13 attributes: small indexes probe their own list, large ones the event's.
constexpr const char* kAttrs[] = {"type", "source", "subject", "id", "datacontenttype", "xa",
                                  "xb", "xc", "xd", "xe", "xf", "xg", "xh"};
constexpr const char* kValues[] = {"a", "ab", "abc", "b", "ba", "bab", "/a", "/a/b", "a/b", "aa"};

std::string piece(Random& r) {
  std::string v = r.pick(kValues);
  std::size_t from = r.chance(0.5) ? 0 : r.below(v.size());
  std::size_t len = 1 + r.below(v.size() - from);
  return v.substr(from, len);
}

FilterPtr random_filter(Random& r, int depth) {
  std::size_t kind = depth >= 4 ? r.below(3) : r.below(6);
  if (kind < 3) {
    std::string attr = r.pick(kAttrs);
    std::string value = piece(r);
    return kind == 0 ? exact(attr, value) : kind == 1 ? prefix(attr, value) : suffix(attr, value);
  }
  if (kind == 5) return negate(random_filter(r, depth + 1));
  std::vector<FilterPtr> children(1 + r.below(3));
  for (auto& c : children) c = random_filter(r, depth + 1);
  return kind == 3 ? all(std::move(children)) : any(std::move(children));
}

EventPtr random_event(Random& r) {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", r.pick(kValues)).set("source", r.pick(kValues));
  b.set("type", r.pick(kValues));
  if (r.chance(0.6)) b.set("subject", r.pick(kValues));
  if (r.chance(0.3)) b.set("datacontenttype", r.pick(kValues));
  for (std::size_t i = 5; i < std::size(kAttrs); ++i)
    if (r.chance(0.25)) b.set(kAttrs[i], r.pick(kValues));
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev) << ev.error().message;
  return *ev;
}

std::string describe(const Event& ev) {
  std::ostringstream os;
  ev.for_each_attribute([&](std::string_view k, std::string_view v) { os << k << '=' << v << ' '; });
  return os.str();
}

TEST(SubscriptionIndexProperty, MatchEqualsNaiveScan) {
  std::uint64_t seed = 20240611;
  if (const char* s = std::getenv("EVMESH_FILTER_SEED")) seed = std::strtoull(s, nullptr, 10);
  Random r(seed);
  std::size_t cases = 0, hits = 0, residual = 0, anchored = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<IndexEntry> entries(r.below(round < 200 ? 12 : 120));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      entries[i].key = static_cast<std::uint32_t>(i * 7 + 3);  // keys are handles, not positions
      entries[i].filters.resize(r.below(4));
      for (auto& f : entries[i].filters) f = random_filter(r, 1);
    }
    auto index = SubscriptionIndex::build(entries);
    residual += index->stats().residual;
    anchored += entries.size() - index->stats().residual;
    for (int e = 0; e < 30; ++e, ++cases) {
      auto ev = random_event(r);
      Keys got;
      index->match(*ev, got);
      std::sort(got.begin(), got.end());
      Keys want = naive(entries, *ev);
      hits += want.size();
      if (got == want) continue;
      std::ostringstream why;
      why << "seed " << seed << " (EVMESH_FILTER_SEED), round " << round << ", event " << e
          << "\nevent: " << describe(*ev) << "\n";
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
  // The generator must exercise the interesting paths, not only trivial ones.
  EXPECT_EQ(cases, 12'000u);
  EXPECT_GT(hits, cases);
  EXPECT_GT(anchored, residual);
  std::cout << "[ property ] seed " << seed << ": " << cases << " events, " << hits
            << " matches, " << anchored << " anchored / " << residual << " residual entries\n";
}

}  // namespace
}  // namespace evmesh::filter
