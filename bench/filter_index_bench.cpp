// SubscriptionIndex throughput: events matched per second (items_per_second) against
// 1 .. 100k subscriptions that each hold one exact / prefix / suffix filter. Every
// event matches exactly one subscription, so the figures include one verified hit.
// BM_NaiveScan is the linear baseline the index replaces.
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "evmesh/filter/subscription_index.h"

namespace {

using namespace evmesh;
using namespace evmesh::filter;

enum class Kind { exact, prefix, suffix };

FilterPtr subscription_filter(Kind kind, std::size_t i) {
  std::string n = std::to_string(i);
  switch (kind) {
    case Kind::exact: return exact("type", "com.example.orders.v1.created." + n);
    case Kind::prefix: return prefix("source", "/tenants/" + n + "/");
    case Kind::suffix: return suffix("subject", "/" + n + ".jpg");
  }
  return nullptr;
}

// 1024 events, each aimed at one random subscription.
std::vector<EventPtr> events_for(Kind kind, std::size_t subscriptions) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, subscriptions - 1);
  std::vector<EventPtr> events;
  for (int i = 0; i < 1024; ++i) {
    std::string n = std::to_string(pick(rng));
    EventBuilder b;
    b.set("specversion", "1.0").set("id", std::to_string(i));
    b.set("type", kind == Kind::exact ? "com.example.orders.v1.created." + n : "com.example.other");
    b.set("source", kind == Kind::prefix ? "/tenants/" + n + "/devices/thermo-7" : "/elsewhere");
    b.set("subject", kind == Kind::suffix ? "uploads/2024/06/" + n + ".jpg" : "none");
    b.set("tenant", "acme");
    events.push_back(*std::move(b).build());
  }
  return events;
}

std::vector<IndexEntry> entries_for(Kind kind, std::size_t n) {
  std::vector<IndexEntry> entries;
  entries.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    entries.push_back({static_cast<std::uint32_t>(i), {subscription_filter(kind, i)}});
  return entries;
}

void run_index(benchmark::State& state, Kind kind) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto index = SubscriptionIndex::build(entries_for(kind, n));
  auto events = events_for(kind, n);
  std::vector<std::uint32_t> out;
  out.reserve(64);
  std::size_t i = 0, matched = 0;
  for (auto _ : state) {
    out.clear();
    index->match(*events[i++ & 1023], out);
    matched += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["matches_per_event"] =
      static_cast<double>(matched) / static_cast<double>(state.iterations());
}

void BM_IndexExactType(benchmark::State& s) { run_index(s, Kind::exact); }
void BM_IndexPrefixSource(benchmark::State& s) { run_index(s, Kind::prefix); }
void BM_IndexSuffixSubject(benchmark::State& s) { run_index(s, Kind::suffix); }

void BM_NaiveScan(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto entries = entries_for(Kind::exact, n);
  auto events = events_for(Kind::exact, n);
  std::vector<std::uint32_t> out;
  out.reserve(64);
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    const Event& ev = *events[i++ & 1023];
    for (const auto& e : entries)
      if (matches_all(e.filters, ev)) out.push_back(e.key);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

#define SIZES ->Arg(1)->Arg(1'000)->Arg(10'000)->Arg(100'000)
BENCHMARK(BM_IndexExactType) SIZES;
BENCHMARK(BM_IndexPrefixSource) SIZES;
BENCHMARK(BM_IndexSuffixSubject) SIZES;
BENCHMARK(BM_NaiveScan)->Arg(1)->Arg(1'000)->Arg(10'000);

}  // namespace

BENCHMARK_MAIN();
