// The `pattern` dialect: EventBridge-style event patterns over attributes and data.
// Semantics and limits are documented in docs/filters.md; this is the compiled form.
//
//   {"type": ["a", "b"], "data": {"total": [{"numeric": [">", 100]}]}}
//   = (type is "a" or "b") AND (some leaf at data path "total" is a number > 100)
//
// A PatternNode is a conjunction of field rules and `$or` groups; a rule is a
// disjunction of matchers over the values at one attribute or data path.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "anchor.h"
#include "evmesh/core/error.h"
#include "evmesh/filter/match_context.h"
#include "glob.h"

namespace evmesh::filter {

struct OwnedScalar {
  Scalar::Type type = Scalar::Type::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  Scalar view() const { return Scalar{type, boolean, number, string}; }
};

struct Matcher {
  enum class Kind {
    equals, prefix, suffix, equals_ignore_case, wildcard,
    anything_but, anything_but_prefix, anything_but_suffix, numeric, exists
  } kind;
  OwnedScalar literal;               // equals; text of prefix/suffix/ignore-case/...
  std::vector<OwnedScalar> values;   // anything_but
  std::optional<double> lower, upper;  // numeric
  bool lower_inclusive = false, upper_inclusive = false;
  bool exists = true;                // exists
  std::optional<detail::Glob> glob;  // wildcard
};

struct FieldRule {
  bool attribute;    // else a data path
  std::string name;  // attribute name or data path ("" = the data itself)
  std::vector<Matcher> matchers;  // any of
};

struct PatternNode {
  std::vector<FieldRule> rules;                   // all of
  std::vector<std::vector<PatternNode>> ors;      // each: any of its branches
};

struct Pattern {
  PatternNode root;
  nlohmann::json source;  // as written, for to_json
};

// Complexity limits (docs/filters.md).
inline constexpr int kMaxPatternDepth = 8;         // nested objects and $or levels
inline constexpr std::size_t kMaxPatternValues = 256;  // matchers + listed values
inline constexpr std::size_t kMaxOrBranches = 16;     // per $or
inline constexpr std::size_t kMaxTotalOrBranches = 64;

// `path` is the pointer of the pattern body ("filters[0].pattern").
Result<std::shared_ptr<const Pattern>> parse_pattern(const nlohmann::json& body, const std::string& path);
bool matches(const Pattern& p, MatchContext& ctx);
// Anchors of a pattern (nullopt: none, the entry is residual).
std::optional<detail::AnchorSet> pattern_anchors(const Pattern& p, std::size_t cap);

}  // namespace evmesh::filter
