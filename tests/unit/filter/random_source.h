// Seeded random choices for the filter property tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

namespace evmesh::filter::testing {

class Random {
 public:
  explicit Random(std::uint64_t seed) : rng_(seed) {}
  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T, std::size_t N>
  const T& pick(const T (&a)[N]) { return a[below(N)]; }

 private:
  std::mt19937_64 rng_;
};

}  // namespace evmesh::filter::testing
