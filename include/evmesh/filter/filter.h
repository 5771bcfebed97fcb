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
// evmesh extensions (docs/filters.md has the exact semantics and limits):
//   {"glob": {"type": "com.*.order.created"}}    `*` = any run without '.', `**` = any run
//   {"sql": "type = 'a' AND data.total > 100"}   CloudEvents SQL (cesql.h)
//   {"pattern": {"type": ["a"], "data": {"total": [{"numeric": [">", 100]}]}}}
//                                                EventBridge-style event pattern
//
// exact/prefix/suffix/glob may hold several properties, which must all match (parsed
// as an `all` of one-property leaves); attribute names and values are non-empty. An
// attribute the event does not carry makes exact/prefix/suffix/glob false.
// A filter that would cost too much to evaluate (too many wildcards, `$or` branches,
// values, nesting) is rejected at parse time with a message starting "too complex".
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
#include "evmesh/filter/cesql.h"
#include "evmesh/filter/match_context.h"

namespace evmesh::filter {

enum class Dialect { exact, prefix, suffix, all, any, not_, glob, sql, pattern };

struct Pattern;  // compiled `pattern` body (src/filter/pattern.h)
namespace detail {
class Glob;
}

struct Filter;
using FilterPtr = std::shared_ptr<const Filter>;

struct Filter {
  Dialect dialect;
  std::string attribute;  // exact, prefix, suffix, glob
  std::string value;      // exact, prefix, suffix, glob (its text), sql (its text)
  std::vector<FilterPtr> children;  // all, any (>= 1); not (exactly 1)
  // An `all` of single-attribute leaves that the user wrote as one multi-attribute
  // exact/prefix/suffix/glob: to_json writes it back in that form.
  std::optional<Dialect> written_as = std::nullopt;
  std::shared_ptr<const detail::Glob> glob = nullptr;        // glob
  cesql::ExpressionPtr sql = nullptr;                         // sql
  std::vector<cesql::Conjunct> sql_conjuncts = {};            // sql: index anchors
  std::shared_ptr<const Pattern> pattern = nullptr;           // pattern
};

// Parses one filter expression. `path` names where it sits in the request (e.g.
// "filters[2]") and prefixes the error pointer, e.g. "filters[2].any[0].exact":
// unknown dialect, not an object, wrong property count, empty name or value,
// non-string value, invalid attribute name. Nesting deeper than kMaxDepth is rejected.
inline constexpr int kMaxDepth = 32;
Result<FilterPtr> parse_filter(const nlohmann::json& expr, std::string_view path);
// Parses a `filters` array (the whole must be an array).
Result<std::vector<FilterPtr>> parse_filters(const nlohmann::json& array, std::string_view path = "filters");

// Evaluation. The MatchContext forms parse the event's data at most once however
// many filters read it: use them when evaluating several filters against one event.
// The Event forms make a context of their own. Any thread; no exceptions.
bool matches(const Filter& f, MatchContext& ctx);
bool matches_all(const std::vector<FilterPtr>& filters, MatchContext& ctx);
bool matches(const Filter& f, const Event& ev);
bool matches_all(const std::vector<FilterPtr>& filters, const Event& ev);

nlohmann::json to_json(const Filter& f);
nlohmann::json to_json(const std::vector<FilterPtr>& filters);

// Convenience constructors (tests, YAML shorthand).
FilterPtr exact(std::string attribute, std::string value);
FilterPtr prefix(std::string attribute, std::string value);
FilterPtr suffix(std::string attribute, std::string value);
// glob / sql / pattern from their text or JSON body; errors as parse_filter's.
Result<FilterPtr> glob(std::string attribute, std::string pattern);
Result<FilterPtr> sql(std::string_view expression);
Result<FilterPtr> pattern(const nlohmann::json& body);
FilterPtr all(std::vector<FilterPtr> children);
FilterPtr any(std::vector<FilterPtr> children);
FilterPtr negate(FilterPtr child);

}  // namespace evmesh::filter
