// RadixTree: an immutable, path-compressed trie over byte strings, used by the
// SubscriptionIndex to find every stored key that is a prefix of an event's value
// (and, built over reversed keys and walked from the end, every stored suffix).
//
// Why a flattened radix tree: a walk costs O(|value|) byte comparisons however many
// keys are stored, and reports each stored prefix exactly once, on the way down.
// Path compression keeps node count below 2 * keys even for long shared prefixes
// ("com.example.orders.", "/tenants/42/devices/") where a byte trie would need a node
// per byte. Nodes sit in one vector, children of a node are contiguous and sorted by
// their first label byte (kept in a parallel byte array, so choosing a child touches
// one cache line), labels live in one string pool: no pointers, no per-node allocation.
// Built once per index snapshot, read concurrently without locks.
//
// Example: keys {"/a/", "/a/b", "/c"} give
//   root --"/"--> n1 --"a/"--> n2 [key "/a/"] --"b"--> n3 [key "/a/b"]
//                    \--"c"--> n4 [key "/c"]
// Walking "/a/bc" visits root, n1, n2 (reports "/a/"), n3 (reports "/a/b"), stops.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evmesh::filter::detail {

class RadixTree {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // Keys must be unique; each carries an opaque payload reported by walk().
  // Iterative: a pathological key set (each key a prefix of the next) cannot overflow
  // the stack.
  static RadixTree build(std::vector<std::pair<std::string, std::uint32_t>> keys);

  bool empty() const { return nodes_.empty(); }
  std::size_t node_count() const { return nodes_.size(); }

  // Calls on_key(payload) for every stored key k that is a prefix of `s` (Reversed:
  // every key k such that reverse(k) is a suffix of `s`; keys were stored reversed),
  // shortest first. No allocation.
  template <bool Reversed, typename F>
  void walk(std::string_view s, F&& on_key) const {
    if (nodes_.empty()) return;
    auto at = [&](std::size_t i) {
      return static_cast<unsigned char>(Reversed ? s[s.size() - 1 - i] : s[i]);
    };
    std::uint32_t n = 0;
    std::size_t pos = 0;
    for (;;) {
      const Node& node = nodes_[n];
      if (node.payload != kNone) on_key(node.payload);
      if (pos == s.size()) return;
      std::uint32_t child = find_child(node, at(pos));
      if (child == kNone) return;
      const Node& c = nodes_[child];
      if (c.label_len > s.size() - pos) return;
      const char* label = labels_.data() + c.label_off;
      if constexpr (Reversed) {
        for (std::uint32_t j = 1; j < c.label_len; ++j)
          if (static_cast<unsigned char>(label[j]) != at(pos + j)) return;
      } else {
        if (std::memcmp(label + 1, s.data() + pos + 1, c.label_len - 1) != 0) return;
      }
      pos += c.label_len;
      n = child;
    }
  }

 private:
  struct Node {
    std::uint32_t label_off = 0;  // into labels_; the root's label is empty
    std::uint32_t label_len = 0;
    std::uint32_t first_child = 0;
    std::uint32_t child_count = 0;
    std::uint32_t payload = kNone;
  };

  std::uint32_t find_child(const Node& node, unsigned char byte) const {
    const unsigned char* first = first_byte_.data() + node.first_child;
    const unsigned char* last = first + node.child_count;
    if (node.child_count <= 8) {
      for (const unsigned char* p = first; p != last; ++p)
        if (*p == byte) return node.first_child + static_cast<std::uint32_t>(p - first);
      return kNone;
    }
    while (first < last) {  // lower_bound
      const unsigned char* mid = first + (last - first) / 2;
      if (*mid < byte) first = mid + 1;
      else last = mid;
    }
    if (first == first_byte_.data() + node.first_child + node.child_count || *first != byte)
      return kNone;
    return node.first_child + static_cast<std::uint32_t>(first - first_byte_.data() - node.first_child);
  }

  std::vector<Node> nodes_;                // nodes_[0] is the root
  std::vector<unsigned char> first_byte_;  // first label byte of nodes_[i]
  std::string labels_;
};

}  // namespace evmesh::filter::detail
