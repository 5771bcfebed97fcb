#include "evmesh/core/backoff.h"

#include <set>

#include <gtest/gtest.h>

namespace evmesh {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, GrowsExponentiallyWithinJitterBounds) {
  RetryPolicy p;
  p.initial_backoff = 100ms;
  p.max_backoff = 10s;
  std::mt19937_64 rng(42);
  for (std::uint32_t attempt = 2; attempt <= 6; ++attempt) {
    const auto ceiling = 100ms * (1 << (attempt - 2));
    for (int i = 0; i < 200; ++i) {
      auto d = backoff_delay(p, attempt, std::nullopt, rng);
      EXPECT_GE(d, ceiling / 2) << "attempt " << attempt;
      EXPECT_LE(d, ceiling) << "attempt " << attempt;
    }
  }
}

TEST(Backoff, IsCappedAtMaxBackoffEvenForHugeAttemptNumbers) {
  RetryPolicy p;
  p.initial_backoff = 1s;
  p.max_backoff = 30s;
  std::mt19937_64 rng(1);
  for (std::uint32_t attempt : {10u, 64u, 1000u, 4'000'000'000u}) {
    auto d = backoff_delay(p, attempt, std::nullopt, rng);
    EXPECT_GE(d, 15s);
    EXPECT_LE(d, 30s);
  }
}

TEST(Backoff, JitterSpreadsDelays) {
  RetryPolicy p;
  p.initial_backoff = 1000ms;
  std::mt19937_64 rng(7);
  std::set<long> seen;
  for (int i = 0; i < 50; ++i) seen.insert(backoff_delay(p, 2, std::nullopt, rng).count());
  EXPECT_GT(seen.size(), 20u);
}

TEST(Backoff, RetryAfterRaisesTheDelayButNeverLowersIt) {
  RetryPolicy p;
  p.initial_backoff = 100ms;
  p.max_backoff = 1s;
  std::mt19937_64 rng(3);
  EXPECT_EQ(backoff_delay(p, 2, 120s, rng), 120s);  // beyond max_backoff: the sink knows best
  auto d = backoff_delay(p, 2, 1ms, rng);
  EXPECT_GE(d, 50ms);
}

}  // namespace
}  // namespace evmesh
