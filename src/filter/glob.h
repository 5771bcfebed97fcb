// Glob: compiled `*` / `**` patterns over byte strings, shared by the `glob` dialect
// and the pattern dialect's `wildcard` matcher.
//
// Two flavours, chosen when compiling:
//   glob      `*`  = any run of bytes without '.', `**` = any run (dots included);
//             `***` and more is rejected. No escape: `*` is always a wildcard.
//             "com.*.order.created" matches "com.shop.order.created", not
//             "com.a.b.order.created"; "com.**" matches both.
//   wildcard  (EventBridge) `*` = any run of bytes, `\*` a literal star, `\\` a
//             literal backslash; two consecutive unescaped `*` are rejected.
//
// Matching simulates the pattern's NFA over the value with a fixed 256-bit state set:
// O(|value| x active states), no backtracking, no allocation. Compiled patterns are
// bounded (kMaxOps positions, kMaxStars wildcards) so a filter cannot make a match
// expensive; compile() reports a complexity error beyond that.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "evmesh/core/error.h"

namespace evmesh::filter::detail {

class Glob {
 public:
  static constexpr std::size_t kMaxOps = 255;
  static constexpr std::size_t kMaxStars = 8;

  enum class Flavour { glob, wildcard };

  // Errors are plain messages (the caller adds where the value sits):
  // "too complex: ..." for the limits, otherwise a syntax problem.
  static std::expected<Glob, std::string> compile(std::string_view text, Flavour flavour);

  bool matches(std::string_view value) const;

  // The literal text before the first wildcard / after the last one (index anchors).
  const std::string& literal_prefix() const { return literal_prefix_; }
  const std::string& literal_suffix() const { return literal_suffix_; }
  // No wildcard at all: matches exactly literal_prefix().
  bool is_literal() const { return stars_ == 0; }
  std::size_t stars() const { return stars_; }

 private:
  enum Op : std::uint8_t { kLiteral, kStar, kStarStar };
  std::vector<Op> ops_;
  std::string bytes_;  // bytes_[i] is the literal of ops_[i] == kLiteral
  std::string literal_prefix_, literal_suffix_;
  std::size_t stars_ = 0;
};

}  // namespace evmesh::filter::detail
