#include "evmesh/core/backoff.h"

#include <algorithm>

namespace evmesh {

std::chrono::milliseconds backoff_delay(const RetryPolicy& p, std::uint32_t next_attempt,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  const std::uint32_t exponent = next_attempt < 2 ? 0 : next_attempt - 2;
  const auto initial = std::max<std::int64_t>(p.initial_backoff.count(), 1);
  const auto cap = std::max<std::int64_t>(p.max_backoff.count(), initial);
  std::int64_t ceiling = initial;
  for (std::uint32_t i = 0; i < exponent && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  milliseconds delay{jitter(rng)};
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace evmesh
