// Matching is the classic two-pointer wildcard walk with one backtrack point (the last
// `%`): O(n*m) worst case, no recursion, no allocation.
#include "like.h"

namespace evmesh::cesql::detail {
namespace {

std::size_t code_point_len(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  return i + n <= s.size() ? n : 1;
}

}  // namespace

LikePattern::LikePattern(std::string_view p) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size() && (p[i + 1] == '%' || p[i + 1] == '_')) {
      kinds_.push_back(Kind::lit);
      bytes_ += p[++i];
    } else if (c == '%') {
      if (!kinds_.empty() && kinds_.back() == Kind::many) continue;  // %% == %
      kinds_.push_back(Kind::many);
      bytes_ += '\0';
    } else if (c == '_') {
      kinds_.push_back(Kind::one);
      bytes_ += '\0';
    } else {
      kinds_.push_back(Kind::lit);
      bytes_ += c;
    }
  }
  std::size_t manys = 0, ones = 0;
  for (Kind k : kinds_) {
    if (k == Kind::many) ++manys;
    if (k == Kind::one) ++ones;
  }
  auto literal_from = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) literal_ += bytes_[i];
  };
  if (ones == 0 && manys == 0) {
    shape_ = Shape::exact;
    literal_from(0, kinds_.size());
  } else if (ones == 0 && manys == 1 && kinds_.back() == Kind::many) {
    shape_ = Shape::prefix;
    literal_from(0, kinds_.size() - 1);
  } else if (ones == 0 && manys == 1 && kinds_.front() == Kind::many) {
    shape_ = Shape::suffix;
    literal_from(1, kinds_.size());
  }
}

bool LikePattern::matches(std::string_view v) const {
  const std::size_t m = kinds_.size();
  std::size_t i = 0, p = 0;
  std::size_t star_p = m, star_i = 0;  // star_p == m: no % seen yet
  while (i < v.size()) {
    if (p < m && kinds_[p] == Kind::lit && bytes_[p] == v[i]) {
      ++i;
      ++p;
    } else if (p < m && kinds_[p] == Kind::one) {
      i += code_point_len(v, i);
      ++p;
    } else if (p < m && kinds_[p] == Kind::many) {
      star_p = p++;
      star_i = i;
    } else if (star_p != m) {
      p = star_p + 1;
      star_i += code_point_len(v, star_i);
      i = star_i;
    } else {
      return false;
    }
  }
  while (p < m && kinds_[p] == Kind::many) ++p;
  return p == m;
}

}  // namespace evmesh::cesql::detail
