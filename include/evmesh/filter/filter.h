// Subscription filters: the dialects of the CloudEvents Subscriptions API
// (subscriptions/spec.md, section 3.2.4).
//
//   {"exact":  {"type": "com.example.created"}}   attribute equals value (case-sensitive)
//   {"prefix": {"source": "/sensors/"}}           attribute starts with value
//   {"suffix": {"subject": ".jpg"}}               attribute ends with value
//   {"all": [f, ...]}  every nested filter true   (an empty list is rejected)
//   {"any": [f, ...]}  at least one true          (an empty list is rejected)
//   {"not": f}         nested filter false
//
// exact/prefix/suffix may hold several properties, which must all match (parsed as
// an `all` of one-property leaves); attribute names and values are non-empty. An attribute the event does not carry makes exact/prefix/suffix false.
// A list of filters (a subscription's `filters`) is a conjunction; empty is true.
//
// Filters are immutable once parsed and shared between snapshots.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/event.h"

namespace evmesh::filter {

enum class Dialect { exact, prefix, suffix, all, any, not_ };

struct Filter;
using FilterPtr = std::shared_ptr<const Filter>;

struct Filter {
  Dialect dialect;
  std::string attribute;  // exact, prefix, suffix
  std::string value;      // exact, prefix, suffix
  std::vector<FilterPtr> children;  // all, any (>= 1); not (exactly 1)
  // An `all` of single-attribute leaves that the user wrote as one multi-attribute
  // exact/prefix/suffix: to_json writes it back in that form.
  std::optional<Dialect> written_as = std::nullopt;
};

// Parses one filter expression. `path` names where it sits in the request (e.g.
// "filters[2]") and prefixes the error pointer, e.g. "filters[2].any[0].exact":
// unknown dialect, not an object, wrong property count, empty name or value,
// non-string value, invalid attribute name. Nesting deeper than kMaxDepth is rejected.
inline constexpr int kMaxDepth = 32;
Result<FilterPtr> parse_filter(const nlohmann::json& expr, std::string_view path);
// Parses a `filters` array (the whole must be an array).
Result<std::vector<FilterPtr>> parse_filters(const nlohmann::json& array, std::string_view path = "filters");

bool matches(const Filter& f, const Event& ev);
bool matches_all(const std::vector<FilterPtr>& filters, const Event& ev);

nlohmann::json to_json(const Filter& f);
nlohmann::json to_json(const std::vector<FilterPtr>& filters);

// Convenience constructors (tests, YAML shorthand).
FilterPtr exact(std::string attribute, std::string value);
FilterPtr prefix(std::string attribute, std::string value);
FilterPtr suffix(std::string attribute, std::string value);
FilterPtr all(std::vector<FilterPtr> children);
FilterPtr any(std::vector<FilterPtr> children);
FilterPtr negate(FilterPtr child);

}  // namespace evmesh::filter
