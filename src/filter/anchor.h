// Index anchors: necessary conditions of a filter that the SubscriptionIndex can look
// up by hash or trie. A filter contributes an AnchorSet: the filter can only be true
// when at least one anchor of the set holds (an `any`, a pattern's value list or
// `$or` gives several). `covers` says the converse holds too, so a hit needs no
// verification. Views point into the Filter (and its Pattern), which outlive the index.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "evmesh/filter/match_context.h"

namespace evmesh::filter::detail {

struct Anchor {
  enum class Kind : std::uint8_t { exact, data, prefix, suffix } kind;
  std::string_view name;  // attribute name, or data path for `data`
  std::string_view text;  // exact / prefix / suffix value
  Scalar value;           // data: the leaf value

  bool holds(MatchContext& ctx) const {
    if (kind == Kind::data) {
      for (const DataField& f : ctx.fields_at(name))
        if (f.value == value) return true;
      return false;
    }
    auto v = ctx.event().attribute(name);
    if (!v) return false;
    switch (kind) {
      case Kind::exact: return *v == text;
      case Kind::prefix: return v->starts_with(text);
      case Kind::suffix: return v->ends_with(text);
      case Kind::data: break;
    }
    return false;
  }

  std::size_t length() const {
    if (kind != Kind::data) return text.size();
    return value.type == Scalar::Type::string ? value.string.size() : 8;
  }
};

struct AnchorSet {
  std::vector<Anchor> anchors;
  bool covers = false;
};

inline int strength(Anchor::Kind k) {
  switch (k) {
    case Anchor::Kind::exact:
    case Anchor::Kind::data: return 0;
    case Anchor::Kind::prefix: return 1;
    case Anchor::Kind::suffix: return 2;
  }
  return 3;
}

// Lower is better: the strongest weakest anchor, then fewer anchors, then covering,
// then the longest shortest value.
inline auto score(const AnchorSet& s) {
  int weakest = 0;
  std::size_t shortest = SIZE_MAX;
  for (const Anchor& a : s.anchors) {
    weakest = std::max(weakest, strength(a.kind));
    shortest = std::min(shortest, a.length());
  }
  return std::tuple(weakest, s.anchors.size(), !s.covers, -static_cast<std::ptrdiff_t>(shortest));
}

// Keeps the better of `best` and `candidate`.
inline void keep_better(std::optional<AnchorSet>& best, std::optional<AnchorSet> candidate) {
  if (candidate && (!best || score(*candidate) < score(*best))) best = std::move(candidate);
}

// An `any`-like union: every branch must be anchorable; nullopt beyond `cap` anchors.
inline bool append_branch(AnchorSet& into, const std::optional<AnchorSet>& branch, std::size_t cap) {
  if (!branch || into.anchors.size() + branch->anchors.size() > cap) return false;
  into.anchors.insert(into.anchors.end(), branch->anchors.begin(), branch->anchors.end());
  into.covers = into.covers && branch->covers;
  return true;
}

}  // namespace evmesh::filter::detail
