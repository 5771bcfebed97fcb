// SubscriptionIndex: finds the subscriptions whose filters match an event without
// scanning all of them.
//
// Each subscription is a conjunction of filters. At build time one conjunct is
// chosen as its anchor: an `exact` goes into a hash table keyed by (attribute,
// value); a `prefix` into a per-attribute trie walked along the event's value; a
// `suffix` into a trie of reversed values. Conjuncts nested in `all` count; an `any`
// whose every branch is indexable is anchored under each branch. A subscription with
// no indexable conjunct (e.g. only `not`, or no filters) sits in a residual list
// checked for every event. Candidates found through an anchor are then checked
// against their full filter list, so the index never changes what matches, only how
// fast.
//
// The index is immutable after build(); the runtime publishes a new one by atomic
// swap, so match() runs lock-free from any thread. `glob` anchors on its literal
// prefix (or suffix), `sql` on cesql::indexable_conjuncts, `pattern` on an attribute
// value or on a data leaf's (path, value) hash; the rest is residual (see
// subscription_index.cpp). Event data is flattened once per event, in the
// MatchContext, however many entries read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "evmesh/filter/filter.h"

namespace evmesh::filter {

// What build() made of the entries: how many are reached through anchors, how many
// are scanned for every event. For tests and metrics (a growing residual count is
// what makes matching slow).
struct IndexStats {
  std::size_t entries = 0;
  std::size_t residual = 0;         // entries with no indexable conjunct
  std::size_t exact_anchors = 0;    // postings per anchor kind; an entry anchored on an
  std::size_t prefix_anchors = 0;   // `any` of several leaves has one posting per leaf
  std::size_t suffix_anchors = 0;
  std::size_t data_anchors = 0;     // pattern data leaves (path = value)
};

struct IndexEntry {
  std::uint32_t key;               // caller's handle (position in its subscription table)
  std::vector<FilterPtr> filters;  // conjunction
};

class SubscriptionIndex {
 public:
  // Builds from entries; keys must be unique.
  static std::shared_ptr<const SubscriptionIndex> build(std::vector<IndexEntry> entries);

  // Appends the keys of every matching entry to `out` (each once, in no particular
  // order). Thread-safe; allocates only when `out` grows.
  void match(const Event& ev, std::vector<std::uint32_t>& out) const;
  // The same with the caller's context (its data is parsed at most once, shared with
  // whatever else the caller evaluates for this event). Same thread as the context.
  void match(MatchContext& ctx, std::vector<std::uint32_t>& out) const;

  std::size_t size() const;
  IndexStats stats() const;

  ~SubscriptionIndex();
  SubscriptionIndex(const SubscriptionIndex&) = delete;
  SubscriptionIndex& operator=(const SubscriptionIndex&) = delete;

 private:
  SubscriptionIndex();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evmesh::filter
