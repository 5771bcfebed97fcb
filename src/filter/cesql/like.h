// LIKE patterns, compiled once. `%` matches any run of characters (possibly empty),
// `_` exactly one character (a UTF-8 code point), `\%` and `\_` the literal signs;
// every other character, a lone backslash included, matches itself (case sensitive).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evmesh::cesql::detail {

class LikePattern {
 public:
  explicit LikePattern(std::string_view pattern);
  bool matches(std::string_view value) const;

  // For the index: the literal text when the pattern is only literals (exact), only
  // literals then one trailing % (prefix), or one leading % then only literals (suffix).
  enum class Shape { exact, prefix, suffix, other };
  Shape shape() const { return shape_; }
  const std::string& literal() const { return literal_; }

 private:
  enum class Kind : std::uint8_t { lit, one, many };
  std::vector<Kind> kinds_;  // one per element
  std::string bytes_;        // the byte of each lit element (unused for one/many)
  Shape shape_ = Shape::other;
  std::string literal_;
};

}  // namespace evmesh::cesql::detail
