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
// Richer dialects. A `glob` anchors on its literal part: the whole value when it has
// no wildcard (exact), else the text before the first wildcard (prefix), else the
// text after the last one (suffix). A `sql` filter anchors on one of
// cesql::indexable_conjuncts (exact / LIKE prefix / LIKE suffix on an attribute). A
// `pattern` anchors on a field whose every value is an anchor: an attribute string
// (exact), prefix, suffix, wildcard literal part, exists:true (prefix ""), or a data
// leaf equal to a value, which goes into a hash table keyed by field_hash(path,
// value); the event probes it with the hashes of its flattened data leaves, computed
// once per event by the MatchContext. A `$or` anchors when each branch does. Hash
// collisions are harmless: a data hit is confirmed by comparing path and value.
// Numeric ranges, anything-but, equals-ignore-case and data prefixes are not
// anchors: a pattern made only of them is residual (checked for every event).
//
// The residual list is the only linear part; stats().residual makes it visible.
#include "evmesh/filter/subscription_index.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "anchor.h"
#include "glob.h"
#include "pattern.h"
#include "radix_tree.h"

namespace evmesh::filter {
namespace {

using detail::Anchor;
using detail::AnchorSet;

// An any-anchored entry pays at most kMaxAnchors - 1 anchor checks per hit; a
// residual one pays a full evaluation on every event, so the cap is generous.
constexpr std::size_t kMaxAnchors = 256;
// Upper bound on the core attributes an event carries (4 required + 4 optional).
constexpr std::size_t kCoreAttributes = 8;

AnchorSet single(Anchor a, bool covers) { return AnchorSet{{a}, covers}; }

std::optional<AnchorSet> best_conjunct(const std::vector<FilterPtr>& conjuncts);

std::optional<AnchorSet> anchors_of(const Filter& f) {
  switch (f.dialect) {
    case Dialect::exact:
      return single({Anchor::Kind::exact, f.attribute, f.value, {}}, true);
    case Dialect::prefix:
      return single({Anchor::Kind::prefix, f.attribute, f.value, {}}, true);
    case Dialect::suffix:
      return single({Anchor::Kind::suffix, f.attribute, f.value, {}}, true);
    case Dialect::glob: {
      if (!f.glob) return std::nullopt;
      const detail::Glob& g = *f.glob;
      if (g.is_literal()) return single({Anchor::Kind::exact, f.attribute, g.literal_prefix(), {}}, true);
      if (!g.literal_prefix().empty() || g.literal_suffix().empty())
        return single({Anchor::Kind::prefix, f.attribute, g.literal_prefix(), {}}, false);
      return single({Anchor::Kind::suffix, f.attribute, g.literal_suffix(), {}}, false);
    }
    case Dialect::sql: {
      std::optional<AnchorSet> best;
      for (const cesql::Conjunct& c : f.sql_conjuncts) {
        if (!valid_attribute_name(c.attribute)) continue;
        Anchor::Kind k = c.kind == cesql::Conjunct::Kind::exact    ? Anchor::Kind::exact
                         : c.kind == cesql::Conjunct::Kind::prefix ? Anchor::Kind::prefix
                                                                   : Anchor::Kind::suffix;
        detail::keep_better(best, single({k, c.attribute, c.value, {}}, false));
      }
      return best;
    }
    case Dialect::pattern:
      return f.pattern ? pattern_anchors(*f.pattern, kMaxAnchors) : std::nullopt;
    case Dialect::all:
      return best_conjunct(f.children);
    case Dialect::any: {
      if (f.children.empty()) return std::nullopt;
      AnchorSet set{{}, true};
      for (const auto& c : f.children)
        if (!detail::append_branch(set, anchors_of(*c), kMaxAnchors)) return std::nullopt;
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
  for (const auto& c : conjuncts) detail::keep_better(best, anchors_of(*c));
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
  std::vector<Anchor> anchors;  // ordinal -> anchor; empty for residual slots
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
  std::unordered_map<std::uint64_t, Range> data;  // field_hash(path, value) -> postings
  IndexStats stats;

  void probe(const AttrIndex& a, std::string_view value, MatchContext& ctx,
             std::vector<std::uint32_t>& out) const {
    if (!a.exact.empty())
      if (auto it = a.exact.find(value); it != a.exact.end()) report<false>(it->second, ctx, out);
    a.prefix.walk<false>(value, [&](std::uint32_t r) { report<false>(ranges[r], ctx, out); });
    a.suffix.walk<true>(value, [&](std::uint32_t r) { report<false>(ranges[r], ctx, out); });
  }

  // Confirm: a data hit may be a hash collision, so its anchor is checked.
  template <bool Confirm>
  void report(Range r, MatchContext& ctx, std::vector<std::uint32_t>& out) const {
    for (std::uint32_t i = r.begin; i < r.end; ++i) {
      const Posting& p = postings[i];
      const Slot& s = slots[p.slot];
      if constexpr (Confirm)
        if (!s.anchors[p.ordinal].holds(ctx)) continue;
      if (!first_hit(s, p.ordinal, ctx)) continue;
      if (s.covered || matches_all(s.filters, ctx)) out.push_back(s.key);
    }
  }

  // True when no anchor before `ordinal` holds, i.e. this hit is the one to report.
  static bool first_hit(const Slot& s, std::uint32_t ordinal, MatchContext& ctx) {
    for (std::uint32_t o = 0; o < ordinal; ++o)
      if (s.anchors[o].holds(ctx)) return false;
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
    Anchor::Kind kind;
    std::string_view value;
    Posting posting;
  };
  std::vector<Row> rows;
  std::vector<std::pair<std::uint64_t, Posting>> data_rows;
  m.slots.reserve(entries.size());
  for (auto& e : entries) {
    auto slot = static_cast<std::uint32_t>(m.slots.size());
    auto set = best_conjunct(e.filters);
    Slot s{e.key, std::move(e.filters), {}, false};
    if (set) {
      for (std::uint32_t o = 0; o < set->anchors.size(); ++o) {
        const Anchor& a = set->anchors[o];
        if (a.kind == Anchor::Kind::data)
          data_rows.push_back({field_hash(a.name, a.value), {slot, o}});
        else
          rows.push_back({a.name, a.kind, a.text, {slot, o}});
      }
      s.anchors = std::move(set->anchors);
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
        case Anchor::Kind::exact:
          a.exact.emplace(std::string(head.value), r);
          m.stats.exact_anchors += n;
          break;
        case Anchor::Kind::prefix:
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

  std::sort(data_rows.begin(), data_rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.slot, a.second.ordinal) <
           std::tie(b.first, b.second.slot, b.second.ordinal);
  });
  m.data.reserve(data_rows.size());
  for (std::size_t i = 0; i < data_rows.size();) {
    Range r{static_cast<std::uint32_t>(m.postings.size()), 0};
    const std::uint64_t h = data_rows[i].first;
    for (; i < data_rows.size() && data_rows[i].first == h; ++i) m.postings.push_back(data_rows[i].second);
    r.end = static_cast<std::uint32_t>(m.postings.size());
    m.data.emplace(h, r);
  }
  m.stats.data_anchors = data_rows.size();
  return index;
}

void SubscriptionIndex::match(const Event& ev, std::vector<std::uint32_t>& out) const {
  MatchContext ctx(ev);
  match(ctx, out);
}

void SubscriptionIndex::match(MatchContext& ctx, std::vector<std::uint32_t>& out) const {
  const Impl& m = *impl_;
  const Event& ev = ctx.event();
  for (std::uint32_t s : m.residual)
    if (matches_all(m.slots[s].filters, ctx)) out.push_back(m.slots[s].key);
  if (!m.data.empty())
    for (std::uint64_t h : ctx.field_hashes())
      if (auto it = m.data.find(h); it != m.data.end()) m.report<true>(it->second, ctx, out);
  if (m.attrs.empty()) return;
  if (m.attrs.size() <= kCoreAttributes + ev.extensions().size()) {
    for (const AttrIndex& a : m.attrs)
      if (auto v = ev.attribute(a.name)) m.probe(a, *v, ctx, out);
  } else {
    ev.for_each_attribute([&](std::string_view name, std::string_view value) {
      if (auto it = m.attr_by_name.find(name); it != m.attr_by_name.end())
        m.probe(m.attrs[it->second], value, ctx, out);
    });
  }
}

std::size_t SubscriptionIndex::size() const { return impl_->slots.size(); }

IndexStats SubscriptionIndex::stats() const { return impl_->stats; }

}  // namespace evmesh::filter
