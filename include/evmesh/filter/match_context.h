// MatchContext: what filters need to know about one event, computed at most once per
// event however many subscriptions look at it.
//
// Attribute filters read the Event directly. Filters over the event's data (the
// `pattern` dialect's data fields, CESQL's `data.x.y`) need it parsed; the context
// does that lazily, on first use, and keeps the result for every further filter and
// for the index:
//
//   fields()  the data flattened to its scalar leaves, EventBridge style: one entry
//             per leaf, path = object keys joined by '.', array elements share their
//             array's path (no indices), grouped by path. {"a": {"b": [1, "x"]}, "c":
//             null} gives ("a.b", 1), ("a.b", "x"), ("c", null). A document that is a
//             bare scalar gives one leaf with the empty path. Empty objects and arrays
//             give no leaf. A key containing '.' is indistinguishable from nesting.
//             (Leaves are grouped by path hash, then path, not sorted alphabetically.)
//   json()    the nlohmann DOM, for CESQL (cesql::matches takes one).
//
// Data is read as JSON when datacontenttype is absent or a JSON media type
// (application/json, text/json, */*+json, parameters ignored) and the bytes parse
// (nesting at most kMaxDataDepth); otherwise fields() is empty and json() is null.
//
// Not thread-safe: one context per event per matching thread, on the stack.
// Views it returns live as long as the context (and the event).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/event.h"

namespace evmesh::filter {

inline constexpr int kMaxDataDepth = 64;

// A JSON scalar: a data leaf, or an attribute as the pattern dialect sees it.
struct Scalar {
  enum class Type : std::uint8_t { null, boolean, number, string };
  Type type = Type::null;
  bool boolean = false;
  double number = 0;
  std::string_view string;

  // Typed equality: numbers compare by value (5 == 5.0), strings byte-wise.
  friend bool operator==(const Scalar& a, const Scalar& b) {
    if (a.type != b.type) return false;
    switch (a.type) {
      case Type::null: return true;
      case Type::boolean: return a.boolean == b.boolean;
      case Type::number: return a.number == b.number;
      case Type::string: return a.string == b.string;
    }
    return false;
  }
};

struct DataField {
  std::string_view path;
  std::uint64_t path_hash;  // path_hash(path)
  Scalar value;
};

std::uint64_t path_hash(std::string_view path);
// Hash of a (data path, value) pair; equal pairs (by Scalar ==) hash equal.
std::uint64_t field_hash(std::uint64_t path_hash, const Scalar& value);
inline std::uint64_t field_hash(std::string_view path, const Scalar& value) {
  return field_hash(path_hash(path), value);
}

// True when the event's datacontenttype says its data is JSON (or is absent).
bool data_is_json(const Event& ev);

class MatchContext {
 public:
  explicit MatchContext(const Event& ev);
  ~MatchContext();
  MatchContext(const MatchContext&) = delete;
  MatchContext& operator=(const MatchContext&) = delete;

  const Event& event() const { return ev_; }

  std::span<const DataField> fields();
  // The leaves at exactly `path` (several for an array).
  std::span<const DataField> fields_at(std::string_view path);
  // field_hash of every leaf, sorted, duplicates removed (the index probes these).
  std::span<const std::uint64_t> field_hashes();
  // The parsed data, or nullptr (no data, not JSON, malformed).
  const nlohmann::json* json();

  // How often the data was actually parsed (0 or 1 per kind); for tests.
  int flatten_count() const { return flattened_ ? 1 : 0; }

  // Buffers borrowed from a per-thread pool on first use and returned, emptied but
  // with their capacity, when the context dies: steady-state matching of events with
  // data does not allocate for flattening. Opaque; public only for that pool.
  struct Scratch;

 private:
  void flatten();

  const Event& ev_;
  bool flattened_ = false;
  bool hashed_ = false;
  bool dom_done_ = false;
  std::unique_ptr<Scratch> scratch_;
  std::span<const DataField> fields_;
  std::span<const std::uint64_t> hashes_;
  std::unique_ptr<nlohmann::json> dom_;
};

}  // namespace evmesh::filter
