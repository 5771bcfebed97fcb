#include "radix_tree.h"

#include <algorithm>

namespace evmesh::filter::detail {

RadixTree RadixTree::build(std::vector<std::pair<std::string, std::uint32_t>> keys) {
  RadixTree t;
  if (keys.empty()) return t;
  // std::string orders bytes as unsigned char, which is the order find_child expects.
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  keys.erase(std::unique(keys.begin(), keys.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first; }),
             keys.end());

  t.nodes_.emplace_back();
  t.first_byte_.push_back(0);
  // Invariant of a work item: keys[lo, hi) all start with the node's path, whose
  // length is `depth`; a key equal to the path sorts first.
  struct Work {
    std::uint32_t node;
    std::size_t lo, hi, depth;
  };
  std::vector<Work> stack{{0, 0, keys.size(), 0}};
  auto byte_at = [&](std::size_t i, std::size_t d) {
    return static_cast<unsigned char>(keys[i].first[d]);
  };
  auto group_end = [&](std::size_t i, std::size_t hi, std::size_t d) {
    std::size_t j = i + 1;
    while (j < hi && byte_at(j, d) == byte_at(i, d)) ++j;
    return j;
  };
  while (!stack.empty()) {
    auto [n, lo, hi, depth] = stack.back();
    stack.pop_back();
    if (keys[lo].first.size() == depth) t.nodes_[n].payload = keys[lo++].second;

    std::uint32_t groups = 0;
    for (std::size_t i = lo; i < hi; i = group_end(i, hi, depth)) ++groups;
    auto first = static_cast<std::uint32_t>(t.nodes_.size());
    t.nodes_[n].first_child = first;
    t.nodes_[n].child_count = groups;
    t.nodes_.resize(first + groups);
    t.first_byte_.resize(first + groups);

    std::uint32_t child = first;
    for (std::size_t i = lo; i < hi; ++child) {
      std::size_t j = group_end(i, hi, depth);
      // Sorted, so the group's common prefix is that of its first and last key.
      const std::string& a = keys[i].first;
      const std::string& b = keys[j - 1].first;
      std::size_t lcp = depth + 1;
      while (lcp < a.size() && lcp < b.size() && a[lcp] == b[lcp]) ++lcp;
      Node& c = t.nodes_[child];
      c.label_off = static_cast<std::uint32_t>(t.labels_.size());
      c.label_len = static_cast<std::uint32_t>(lcp - depth);
      t.labels_.append(a, depth, lcp - depth);
      t.first_byte_[child] = byte_at(i, depth);
      stack.push_back({child, i, j, lcp});
      i = j;
    }
  }
  return t;
}

}  // namespace evmesh::filter::detail
