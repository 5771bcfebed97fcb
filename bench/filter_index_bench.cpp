// SubscriptionIndex throughput: events matched per second (items_per_second) against
// 1 .. 100k subscriptions of one kind each. Every event matches exactly one
// subscription (verified hit included) and carries ~1 KB of JSON data, so data-reading
// kinds pay for parsing it (once per event, in the MatchContext).
//
//   ExactType      exact type = "com.example.orders.v1.created.<i>"
//   PrefixSource   prefix source = "/tenants/<i>/"
//   SuffixSubject  suffix subject = "/<i>.jpg"
//   GlobType       glob type = "com.example.t<i>.*.created"   (prefix anchor)
//   DataPattern    pattern {"data": {"customer": {"id": [<i>]}, "total": [{"numeric": [">", 100, "<=", 500]}]}}
//   Cesql          sql "type = 'com.example.orders.v1.created.<i>' AND data.total > 100"
//   DataPatternNumericOnly  pattern {"data": {"total": [{"numeric": [">", <i>]}]}} (residual)
// BM_NaiveScan is the linear baseline the index replaces.
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "evmesh/filter/subscription_index.h"

namespace {

using namespace evmesh;
using namespace evmesh::filter;

enum class Kind { exact, prefix, suffix, glob, data_pattern, cesql, numeric_only };

FilterPtr subscription_filter(Kind kind, std::size_t i) {
  std::string n = std::to_string(i);
  switch (kind) {
    case Kind::exact: return exact("type", "com.example.orders.v1.created." + n);
    case Kind::prefix: return prefix("source", "/tenants/" + n + "/");
    case Kind::suffix: return suffix("subject", "/" + n + ".jpg");
    case Kind::glob: return *glob("type", "com.example.t" + n + ".*.created");
    case Kind::data_pattern:
      return *pattern({{"data",
                        {{"customer", {{"id", {i}}}},
                         {"total", {{{"numeric", {">", 100, "<=", 500}}}}}}}});
    case Kind::cesql: return *sql("type = 'com.example.orders.v1.created." + n + "' AND data.total > 100");
    case Kind::numeric_only:
      return *pattern({{"data", {{"total", {{{"numeric", {">", static_cast<double>(i)}}}}}}}});
  }
  return nullptr;
}

// ~1 KB of order JSON, customer id `n`.
std::string order_json(std::size_t n, std::mt19937& rng) {
  nlohmann::json items = nlohmann::json::array();
  for (int k = 0; k < 6; ++k)
    items.push_back({{"sku", "SKU-" + std::to_string(rng() % 100000)},
                     {"name", "Widget model " + std::to_string(k)},
                     {"qty", 1 + rng() % 5},
                     {"price", 9.99 + k}});
  nlohmann::json d = {
      {"orderId", "ord-" + std::to_string(rng())},
      {"total", 250},
      {"currency", "EUR"},
      {"customer", {{"id", n}, {"tier", "gold"}, {"email", "someone@example.com"},
                    {"address", {{"street", "Hauptstrasse 1"}, {"city", "Berlin"}, {"zip", "10115"}}}}},
      {"items", items},
      {"notes", "Leave the parcel with the neighbour if nobody answers the door bell."},
      {"flags", {"express", "gift"}},
  };
  return d.dump();
}

// 1024 events, each aimed at one random subscription.
std::vector<EventPtr> events_for(Kind kind, std::size_t subscriptions) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, subscriptions - 1);
  std::vector<EventPtr> events;
  for (int i = 0; i < 1024; ++i) {
    std::size_t target = pick(rng);
    std::string n = std::to_string(target);
    EventBuilder b;
    b.set("specversion", "1.0").set("id", std::to_string(i));
    b.set("type", kind == Kind::exact || kind == Kind::cesql ? "com.example.orders.v1.created." + n
                  : kind == Kind::glob                       ? "com.example.t" + n + ".eu.created"
                                                             : "com.example.other");
    b.set("source", kind == Kind::prefix ? "/tenants/" + n + "/devices/thermo-7" : "/elsewhere");
    b.set("subject", kind == Kind::suffix ? "uploads/2024/06/" + n + ".jpg" : "none");
    b.set("tenant", "acme");
    b.set("datacontenttype", "application/json");
    b.data(order_json(kind == Kind::data_pattern ? target : subscriptions + 1, rng));
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
  out.reserve(n < 1024 ? 1024 : n);
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
  state.counters["residual"] = static_cast<double>(index->stats().residual);
}

void BM_IndexExactType(benchmark::State& s) { run_index(s, Kind::exact); }
void BM_IndexPrefixSource(benchmark::State& s) { run_index(s, Kind::prefix); }
void BM_IndexSuffixSubject(benchmark::State& s) { run_index(s, Kind::suffix); }
void BM_IndexGlobType(benchmark::State& s) { run_index(s, Kind::glob); }
void BM_IndexDataPattern(benchmark::State& s) { run_index(s, Kind::data_pattern); }
void BM_IndexCesql(benchmark::State& s) { run_index(s, Kind::cesql); }
void BM_IndexDataPatternNumericOnly(benchmark::State& s) { run_index(s, Kind::numeric_only); }

// The cost of reading the data once: flattening ~1 KB (what a data pattern pays per
// event) and building the nlohmann DOM (what CESQL's data.* pays).
void BM_FlattenData(benchmark::State& state) {
  auto events = events_for(Kind::data_pattern, 1000);
  std::size_t i = 0;
  for (auto _ : state) {
    MatchContext ctx(*events[i++ & 1023]);
    benchmark::DoNotOptimize(ctx.field_hashes().size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * events[0]->data()->size()));
}
void BM_ParseDom(benchmark::State& state) {
  auto events = events_for(Kind::data_pattern, 1000);
  std::size_t i = 0;
  for (auto _ : state) {
    MatchContext ctx(*events[i++ & 1023]);
    benchmark::DoNotOptimize(ctx.json());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * events[0]->data()->size()));
}

void BM_NaiveScan(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto entries = entries_for(Kind::exact, n);
  auto events = events_for(Kind::exact, n);
  std::vector<std::uint32_t> out;
  out.reserve(64);
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    MatchContext ctx(*events[i++ & 1023]);
    for (const auto& e : entries)
      if (matches_all(e.filters, ctx)) out.push_back(e.key);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

#define SIZES ->Arg(1)->Arg(1'000)->Arg(10'000)->Arg(100'000)
BENCHMARK(BM_IndexExactType) SIZES;
BENCHMARK(BM_IndexPrefixSource) SIZES;
BENCHMARK(BM_IndexSuffixSubject) SIZES;
BENCHMARK(BM_IndexGlobType) SIZES;
BENCHMARK(BM_IndexDataPattern) SIZES;
BENCHMARK(BM_IndexCesql) SIZES;
BENCHMARK(BM_IndexDataPatternNumericOnly)->Arg(1)->Arg(100)->Arg(1'000);
BENCHMARK(BM_FlattenData);
BENCHMARK(BM_ParseDom);
BENCHMARK(BM_NaiveScan)->Arg(1)->Arg(1'000)->Arg(10'000);

}  // namespace

BENCHMARK_MAIN();
