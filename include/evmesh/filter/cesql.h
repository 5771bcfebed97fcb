// CloudEvents SQL Expression Language (CESQL) v1.0: compile once, evaluate per event.
// Spec: cesql/spec.md in the cloudevents/spec repository.
//
// An evaluation yields a value (Integer, String or Boolean) and possibly errors. A node
// that raises an error returns the spec's value for it (5 / 0 -> 0, ABS(INT_MIN) ->
// INT_MAX); a node whose operand carries an error returns the zero value of its own
// type (0, '', false) without computing, so `missing / 0` is 0 with only a
// missingAttribute error (the spec's fail-fast mode). In a subscription filter only a
// Boolean TRUE result without errors matches. Attributes are Strings, except
// extensions whose Extension::kind is integer/boolean. Full rules: docs/cesql.md.
//
// Our documented extension: `data.a.b` (a dotted path) reads a field of the event's
// JSON data, converted to a CESQL value (number ->
// Integer when integral and in range, string -> String, bool -> Boolean; anything else
// or a missing field -> missingAttribute error, like an absent attribute).
//
// Thread-safety: an Expression is immutable; evaluate() may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/event.h"

namespace evmesh::cesql {

enum class Type { integer, string, boolean };

struct Value {
  std::variant<std::int32_t, std::string, bool> v;
  Type type() const { return static_cast<Type>(v.index()); }
  friend bool operator==(const Value&, const Value&) = default;
};

// The spec's error kinds.
enum class ErrorKind { parse, math, cast, missing_attribute, missing_function, function_evaluation };
std::string_view to_string(ErrorKind);

struct EvalError {
  ErrorKind kind;
  std::string message;
};

struct Evaluation {
  Value value;
  std::vector<EvalError> errors;
};

class Expression;
using ExpressionPtr = std::shared_ptr<const Expression>;

// Limits that keep one filter from slowing the mesh: nesting depth and node count.
struct Limits {
  std::size_t max_depth = 64;
  std::size_t max_nodes = 1024;
  std::size_t max_text = 16 * 1024;
};

// Parses and checks what the spec lets us check before evaluation. Errors:
// Errc::invalid_subscription with a message that names the position, e.g.
// "at position 12: expected ')'" (callers prefix where the expression sits).
Result<ExpressionPtr> compile(std::string_view text, const Limits& limits = {});

// `data` is the event's parsed JSON data (nullptr when absent or not JSON).
Evaluation evaluate(const Expression& expr, const Event& ev, const nlohmann::json* data = nullptr);
// The `sql` filter dialect's result: true only for a TRUE value with no error.
bool matches(const Expression& expr, const Event& ev, const nlohmann::json* data = nullptr);

// The text the expression was compiled from.
const std::string& text(const Expression& expr);
// True when the expression reads data.* (the caller then parses the data).
bool uses_data(const Expression& expr);

// Conjuncts an index can anchor on: if the expression is `A AND B AND ...` (or a single
// term) and a term is `attr = 'literal'` / `'literal' = attr` (exact) or
// `attr LIKE 'lit%'` without other wildcards (prefix) or `attr LIKE '%lit'` (suffix),
// it is listed. The expression can only be TRUE when every listed conjunct holds.
struct Conjunct {
  enum class Kind { exact, prefix, suffix } kind;
  std::string attribute;
  std::string value;
};
std::vector<Conjunct> indexable_conjuncts(const Expression& expr);

// Problems the spec reports only at evaluation time but that are certain from the text:
// calls of a function that does not exist with that arity (every evaluation reaching
// them yields a missingFunction error, so a filter could never match there). The
// Subscriptions API may reject such filters at creation; compile() accepts them.
std::vector<EvalError> static_errors(const Expression& expr);

}  // namespace evmesh::cesql
