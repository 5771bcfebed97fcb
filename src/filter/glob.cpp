#include "glob.h"

#include <array>
#include <bit>

namespace evmesh::filter::detail {

std::expected<Glob, std::string> Glob::compile(std::string_view text, Flavour flavour) {
  Glob g;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (flavour == Flavour::wildcard && c == '\\') {
      if (i + 1 == text.size() || (text[i + 1] != '*' && text[i + 1] != '\\'))
        return std::unexpected(std::string("a backslash must escape '*' or '\\'"));
      g.ops_.push_back(kLiteral);
      g.bytes_ += text[++i];
      continue;
    }
    if (c != '*') {
      g.ops_.push_back(kLiteral);
      g.bytes_ += c;
      continue;
    }
    std::size_t run = 1;
    while (i + run < text.size() && text[i + run] == '*') ++run;
    if (flavour == Flavour::wildcard && run > 1)
      return std::unexpected(std::string("consecutive '*' are not allowed in a wildcard"));
    if (run > 2)
      return std::unexpected(std::string("'" + std::string(run, '*') +
                                         "': a glob takes '*' (within a dot-separated part) or "
                                         "'**' (across dots), nothing longer"));
    g.ops_.push_back(flavour == Flavour::wildcard || run == 2 ? kStarStar : kStar);
    g.bytes_ += '*';
    i += run - 1;
    ++g.stars_;
  }
  if (g.stars_ > kMaxStars)
    return std::unexpected("too complex: " + std::to_string(g.stars_) + " wildcards, at most " +
                           std::to_string(kMaxStars) + " are allowed in one value");
  if (g.ops_.size() > kMaxOps)
    return std::unexpected("too complex: a pattern value longer than " + std::to_string(kMaxOps) +
                           " characters");
  std::size_t first = 0;
  while (first < g.ops_.size() && g.ops_[first] == kLiteral) ++first;
  g.literal_prefix_ = g.bytes_.substr(0, first);
  std::size_t last = g.ops_.size();
  while (last > first && g.ops_[last - 1] == kLiteral) --last;
  g.literal_suffix_ = first == g.ops_.size() ? std::string() : g.bytes_.substr(last);
  return g;
}

bool Glob::matches(std::string_view value) const {
  if (stars_ == 0) return value == literal_prefix_;
  if (value.size() < literal_prefix_.size() + literal_suffix_.size() ||
      !value.starts_with(literal_prefix_) || !value.ends_with(literal_suffix_))
    return false;
  // Only the part between the literal prefix and suffix is left; the ops there start
  // and end with a wildcard.
  const std::string_view middle = value.substr(
      literal_prefix_.size(), value.size() - literal_prefix_.size() - literal_suffix_.size());
  const std::size_t first = literal_prefix_.size();
  const std::size_t m = ops_.size() - literal_suffix_.size() - first;
  const Op* ops = ops_.data() + first;
  const char* bytes = bytes_.data() + first;
  if (m == 1) return ops[0] == kStarStar || middle.find('.') == std::string_view::npos;

  using States = std::array<std::uint64_t, 4>;
  auto set = [](States& s, std::size_t j) { s[j >> 6] |= std::uint64_t{1} << (j & 63); };
  auto has = [](const States& s, std::size_t j) { return (s[j >> 6] >> (j & 63)) & 1; };
  auto close = [&](States& s) {  // a wildcard may match nothing
    for (std::size_t j = 0; j < m; ++j)
      if (ops[j] != kLiteral && has(s, j)) set(s, j + 1);
  };
  States cur{};
  set(cur, 0);
  close(cur);
  for (const char c : middle) {
    States next{};
    bool any = false;
    for (std::size_t w = 0; w < cur.size(); ++w) {
      for (std::uint64_t bits = cur[w]; bits != 0; bits &= bits - 1) {
        const std::size_t j = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
        if (j == m) continue;
        switch (ops[j]) {
          case kLiteral:
            if (bytes[j] == c) set(next, j + 1), any = true;
            break;
          case kStar:
            if (c != '.') set(next, j), any = true;
            break;
          case kStarStar:
            set(next, j), any = true;
            break;
        }
      }
    }
    if (!any) return false;
    close(next);
    cur = next;
  }
  return has(cur, m);
}

}  // namespace evmesh::filter::detail
