// SubscriptionIndex: design note.
//
// Anchors. Each entry's filter list is a conjunction; build() picks the conjunct that
// narrows candidates best and files the entry under it. Conjuncts of a nested `all`
// are conjuncts too. An `any` is indexable when every branch is: the entry is filed
// under one anchor per branch (an "anchor set"), capped at kMaxAnchors. `not` is
// opaque except for double negation. Among candidate sets the best is, in order:
// the one whose weakest anchor is strongest (exact > prefix > suffix), the one with
// fewer anchors, the one that "covers" its entry (see below), the one whose shortest
// value is longest. Examples:
//
//   [prefix source "/a/", exact type "t"]           -> exact type "t"
//   [all[suffix subject ".jpg", prefix source "/"]] -> prefix source "/"
//   [any[exact type "a", exact type "b"]]            -> {exact type "a", exact type "b"}
//   [any[exact type "a", not ...]], [not ...], []   -> residual
//
// Per attribute: exact values in a hash table (heterogeneous lookup, so a probe with
// the event's string_view builds no string), prefixes in a RadixTree walked along the
// event's value, suffixes in a RadixTree of reversed values walked from the end (see
// radix_tree.h for why a radix tree rather than a sorted array or byte trie). An event
// probes whichever set is smaller: the attributes anchors use, or those it carries.
// Every anchor that holds for the event yields its postings exactly once, so cost is
// O(attributes x value length + candidates), independent of the entry count.
//
// Reporting once. A single-anchor entry is reached at most once per event. An entry
// with an anchor set is reported only from the first anchor (in set order) that
// holds: on a hit through anchor i, anchors 0..i-1 are re-evaluated and the hit is
// dropped if one holds. No per-event visited set, so no allocation.
//
// Verification. A candidate is checked with matches_all, except when its anchor set
// "covers" it: the filter list is a single expression that is true exactly when one
// of the anchors is (a lone leaf, or any/all-of-one over leaves), so the hit decides.
//
// Extending. A CESQL dialect can contribute anchors by extracting equality/LIKE
// prefix conjuncts from its AST in anchors_of(); anything else stays residual. The
// residual list is the only linear part; stats().residual makes it visible.
#include "evmesh/filter/subscription_index.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "radix_tree.h"

namespace evmesh::filter {
namespace {

// An any-anchored entry pays at most kMaxAnchors - 1 leaf checks per hit; a residual
// one pays a full evaluation on every event, so the cap is generous (`types` lists).
constexpr std::size_t kMaxAnchors = 256;
// Upper bound on the core attributes an event carries (4 required + 4 optional).
constexpr std::size_t kCoreAttributes = 8;

struct AnchorSet {
  std::vector<const Filter*> leaves;  // exact/prefix/suffix nodes of the entry's filters
  bool covers = false;                // the entry matches iff some leaf holds
};

int strength(Dialect d) {
  switch (d) {
    case Dialect::exact: return 0;
    case Dialect::prefix: return 1;
    default: return 2;
  }
}

// Lower is better.
auto score(const AnchorSet& s) {
  int weakest = 0;
  std::size_t shortest = SIZE_MAX;
  for (const Filter* leaf : s.leaves) {
    weakest = std::max(weakest, strength(leaf->dialect));
    shortest = std::min(shortest, leaf->value.size());
  }
  return std::tuple(weakest, s.leaves.size(), !s.covers, -static_cast<std::ptrdiff_t>(shortest));
}

std::optional<AnchorSet> best_conjunct(const std::vector<FilterPtr>& conjuncts);

std::optional<AnchorSet> anchors_of(const Filter& f) {
  switch (f.dialect) {
    case Dialect::exact:
    case Dialect::prefix:
    case Dialect::suffix:
      return AnchorSet{{&f}, true};
    case Dialect::all:
      return best_conjunct(f.children);
    case Dialect::any: {
      if (f.children.empty()) return std::nullopt;
      AnchorSet set{{}, true};
      for (const auto& c : f.children) {
        auto s = anchors_of(*c);
        if (!s || set.leaves.size() + s->leaves.size() > kMaxAnchors) return std::nullopt;
        set.leaves.insert(set.leaves.end(), s->leaves.begin(), s->leaves.end());
        set.covers = set.covers && s->covers;
      }
      return set;
    }
    case Dialect::not_:
      if (f.children.size() == 1 && f.children[0]->dialect == Dialect::not_ &&
          f.children[0]->children.size() == 1)
        return anchors_of(*f.children[0]->children[0]);
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<AnchorSet> best_conjunct(const std::vector<FilterPtr>& conjuncts) {
  std::optional<AnchorSet> best;
  for (const auto& c : conjuncts) {
    auto s = anchors_of(*c);
    if (s && (!best || score(*s) < score(*best))) best = std::move(s);
  }
  if (best && conjuncts.size() != 1) best->covers = false;
  return best;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Posting {
  std::uint32_t slot;     // into Impl::slots
  std::uint32_t ordinal;  // which anchor of the slot's set
};

struct Range {
  std::uint32_t begin = 0, end = 0;  // into Impl::postings
};

struct AttrIndex {
  std::string name;
  StringMap<Range> exact;
  detail::RadixTree prefix;  // payload: index into Impl::ranges
  detail::RadixTree suffix;  // keys reversed
};

struct Slot {
  std::uint32_t key;
  std::vector<FilterPtr> filters;
  std::vector<const Filter*> anchors;  // ordinal -> leaf; empty for residual slots
  bool covered = false;
};

}  // namespace

struct SubscriptionIndex::Impl {
  std::vector<Slot> slots;
  std::vector<std::uint32_t> residual;  // slot indices
  std::vector<AttrIndex> attrs;
  StringMap<std::uint32_t> attr_by_name;  // -> attrs index
  std::vector<Posting> postings;
  std::vector<Range> ranges;
  IndexStats stats;

  void probe(const AttrIndex& a, std::string_view value, const Event& ev,
             std::vector<std::uint32_t>& out) const {
    if (!a.exact.empty())
      if (auto it = a.exact.find(value); it != a.exact.end()) report(it->second, ev, out);
    a.prefix.walk<false>(value, [&](std::uint32_t r) { report(ranges[r], ev, out); });
    a.suffix.walk<true>(value, [&](std::uint32_t r) { report(ranges[r], ev, out); });
  }

  void report(Range r, const Event& ev, std::vector<std::uint32_t>& out) const {
    for (std::uint32_t i = r.begin; i < r.end; ++i) {
      const Posting& p = postings[i];
      const Slot& s = slots[p.slot];
      if (!first_hit(s, p.ordinal, ev)) continue;
      if (s.covered || matches_all(s.filters, ev)) out.push_back(s.key);
    }
  }

  // True when no anchor before `ordinal` holds, i.e. this hit is the one to report.
  static bool first_hit(const Slot& s, std::uint32_t ordinal, const Event& ev) {
    for (std::uint32_t o = 0; o < ordinal; ++o)
      if (matches(*s.anchors[o], ev)) return false;
    return true;
  }
};

SubscriptionIndex::SubscriptionIndex() : impl_(std::make_unique<Impl>()) {}
SubscriptionIndex::~SubscriptionIndex() = default;

std::shared_ptr<const SubscriptionIndex> SubscriptionIndex::build(std::vector<IndexEntry> entries) {
  std::shared_ptr<SubscriptionIndex> index(new SubscriptionIndex());
  Impl& m = *index->impl_;
  m.stats.entries = entries.size();

  // One row per (anchor leaf, slot); string_views point into the leaves, which the
  // slots keep alive.
  struct Row {
    std::string_view attribute;
    Dialect kind;
    std::string_view value;
    Posting posting;
  };
  std::vector<Row> rows;
  m.slots.reserve(entries.size());
  for (auto& e : entries) {
    auto slot = static_cast<std::uint32_t>(m.slots.size());
    auto set = best_conjunct(e.filters);
    Slot s{e.key, std::move(e.filters), {}, false};
    if (set) {
      for (std::uint32_t o = 0; o < set->leaves.size(); ++o) {
        const Filter* leaf = set->leaves[o];
        rows.push_back({leaf->attribute, leaf->dialect, leaf->value, {slot, o}});
      }
      s.anchors = std::move(set->leaves);
      s.covered = set->covers;
    } else {
      m.residual.push_back(slot);
    }
    m.slots.push_back(std::move(s));
  }
  m.stats.residual = m.residual.size();

  auto order = [](const Row& r) {
    return std::tie(r.attribute, r.kind, r.value, r.posting.slot, r.posting.ordinal);
  };
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return order(a) < order(b); });
  m.postings.reserve(rows.size());

  for (std::size_t i = 0; i < rows.size();) {
    AttrIndex a;
    a.name = rows[i].attribute;
    std::vector<std::pair<std::string, std::uint32_t>> prefixes, suffixes;
    while (i < rows.size() && rows[i].attribute == a.name) {
      const Row& head = rows[i];
      Range r{static_cast<std::uint32_t>(m.postings.size()), 0};
      for (; i < rows.size() && rows[i].attribute == head.attribute && rows[i].kind == head.kind &&
             rows[i].value == head.value;
           ++i)
        m.postings.push_back(rows[i].posting);
      r.end = static_cast<std::uint32_t>(m.postings.size());
      const std::size_t n = r.end - r.begin;
      const auto range_id = static_cast<std::uint32_t>(m.ranges.size());
      switch (head.kind) {
        case Dialect::exact:
          a.exact.emplace(std::string(head.value), r);
          m.stats.exact_anchors += n;
          break;
        case Dialect::prefix:
          m.ranges.push_back(r);
          prefixes.emplace_back(std::string(head.value), range_id);
          m.stats.prefix_anchors += n;
          break;
        default:
          m.ranges.push_back(r);
          suffixes.emplace_back(std::string(head.value.rbegin(), head.value.rend()), range_id);
          m.stats.suffix_anchors += n;
          break;
      }
    }
    a.prefix = detail::RadixTree::build(std::move(prefixes));
    a.suffix = detail::RadixTree::build(std::move(suffixes));
    m.attr_by_name.emplace(a.name, static_cast<std::uint32_t>(m.attrs.size()));
    m.attrs.push_back(std::move(a));
  }
  return index;
}

void SubscriptionIndex::match(const Event& ev, std::vector<std::uint32_t>& out) const {
  const Impl& m = *impl_;
  for (std::uint32_t s : m.residual)
    if (matches_all(m.slots[s].filters, ev)) out.push_back(m.slots[s].key);
  if (m.attrs.empty()) return;
  if (m.attrs.size() <= kCoreAttributes + ev.extensions().size()) {
    for (const AttrIndex& a : m.attrs)
      if (auto v = ev.attribute(a.name)) m.probe(a, *v, ev, out);
  } else {
    ev.for_each_attribute([&](std::string_view name, std::string_view value) {
      if (auto it = m.attr_by_name.find(name); it != m.attr_by_name.end())
        m.probe(m.attrs[it->second], value, ev, out);
    });
  }
}

std::size_t SubscriptionIndex::size() const { return impl_->slots.size(); }

IndexStats SubscriptionIndex::stats() const { return impl_->stats; }

}  // namespace evmesh::filter
