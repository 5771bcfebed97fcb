// match() must not allocate once `out` has room: counts operator new calls made by
// this thread while a probe is armed. Replacing operator new affects the whole
// filter_tests binary, but only armed sections are counted.
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "evmesh/filter/subscription_index.h"

namespace {
thread_local bool armed = false;
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (armed) ++allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace evmesh::filter {
namespace {

TEST(SubscriptionIndexAlloc, MatchDoesNotAllocate) {
  std::vector<IndexEntry> entries;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    std::string n = std::to_string(i % 100);
    switch (i % 6) {
      case 0: entries.push_back({i, {exact("type", "t" + n)}}); break;
      case 1: entries.push_back({i, {prefix("source", "/s/" + n)}}); break;
      case 2: entries.push_back({i, {suffix("subject", n + ".jpg")}}); break;
      case 3: entries.push_back({i, {any({exact("type", "t" + n), exact("tenant", n)})}}); break;
      case 4: entries.push_back({i, {all({prefix("source", "/s/"), negate(exact("type", "t" + n))})}}); break;
      default: entries.push_back({i, {negate(suffix("subject", n))}}); break;
    }
  }
  for (std::uint32_t i = 0; i < 20; ++i)  // enough attributes to take the event-driven probe
    entries.push_back({5000 + i, {exact("x" + std::to_string(i), "v")}});
  auto index = SubscriptionIndex::build(std::move(entries));

  EventBuilder b;
  b.set("specversion", "1.0").set("id", "1").set("source", "/s/42/a").set("type", "t42");
  b.set("subject", "p/42.jpg").set("tenant", "42").set("x3", "v");
  auto ev = *std::move(b).build();

  std::vector<std::uint32_t> out;
  out.reserve(4096);
  armed = true;
  for (int i = 0; i < 100; ++i) {
    out.clear();
    index->match(*ev, out);
  }
  armed = false;
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(out.size(), 10u);
}

}  // namespace
}  // namespace evmesh::filter
