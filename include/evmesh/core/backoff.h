// Retry schedule for deliveries: exponential backoff with full jitter, bounded by
// a maximum delay, never shorter than what the sink asked for with Retry-After.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace evmesh {

struct RetryPolicy {
  std::uint32_t max_attempts = 10;                 // including the first; 1 = no retry
  std::chrono::milliseconds max_age{3'600'000};    // since the event was accepted
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{60'000};
  friend bool operator==(const RetryPolicy&, const RetryPolicy&) = default;
};

// Delay before attempt number `next_attempt` (2 for the first retry). The
// exponential ceiling is initial * 2^(next_attempt-2), capped at max_backoff; the
// delay is drawn uniformly from [ceiling/2, ceiling] so retries of many events spread
// out. A Retry-After hint raises the delay to at least the hint (it is not capped:
// the sink said when it can take more).
std::chrono::milliseconds backoff_delay(const RetryPolicy& p, std::uint32_t next_attempt,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::mt19937_64& rng);

}  // namespace evmesh
