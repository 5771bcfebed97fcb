// Evaluation of a compiled CESQL expression against one event.
//
// Error semantics (spec sections 3.3, 3.4 and 4.1). A node that raises an error itself
// returns the value the spec defines for that case (ABS(-2147483648) -> 2147483647,
// LEFT('abc', -1) -> 'abc', 5 / 0 -> 0, a failed cast -> the zero value of the node's
// type). A node whose operand carries an error does not compute: it returns the zero
// value of its own return type and evaluates nothing further, so the error travels to
// the root with zero values, e.g.
//   missing / 0              -> 0,     [missingAttribute]   (no MathError)
//   NOT missing              -> false, [missingAttribute]
//   true AND (1 != 1 / 0)    -> false, [math]
//   subject  (absent)        -> false, [missingAttribute]   (type unknown: Boolean)
// which is the spec's "fail fast" mode; a filter passes only on TRUE with no error.
//
// Attribute types: extensions that arrived as JSON integers or booleans are Integer /
// Boolean values (Extension::kind); everything else is a String.
#include <limits>

#include <nlohmann/json.hpp>

#include "ast.h"
#include "cast.h"
#include "functions.h"
#include "value.h"

namespace evmesh::cesql {
namespace {

using detail::Node;
using detail::Op;
using detail::Val;

constexpr std::size_t kInlineArgs = 4;

std::string dotted(const std::vector<std::string>& path) {
  std::string out = "data";
  for (const auto& seg : path) (out += '.') += seg;
  return out;
}

const nlohmann::json* find_path(const nlohmann::json* data, const std::vector<std::string>& path) {
  const nlohmann::json* at = data;
  for (const auto& seg : path) {
    if (at == nullptr) return nullptr;
    if (at->is_object()) {
      auto it = at->find(seg);
      at = it == at->end() ? nullptr : &*it;
    } else if (at->is_array()) {
      auto index = detail::parse_int(seg);
      if (!index || *index < 0 || seg.front() == '+' || seg.front() == '-' ||
          static_cast<std::size_t>(*index) >= at->size())
        return nullptr;
      at = &(*at)[static_cast<std::size_t>(*index)];
    } else {
      return nullptr;
    }
  }
  return at;
}

class Evaluator {
 public:
  Evaluator(const Expression& ex, const Event& ev, const nlohmann::json* data, std::vector<EvalError>& errors)
      : ex_(ex), ev_(ev), data_(data), errors_(errors) {}

  Val run(std::uint32_t id) {
    const Node& n = ex_.nodes_[id];
    switch (n.op) {
      case Op::literal: return literal(n);
      case Op::attribute: return attribute(n);
      case Op::data_field: return data_field(n);
      case Op::exists:
        return Val::boolean(n.path.empty() ? attribute_exists(n.name) : find_path(data_, n.path) != nullptr);
      case Op::missing_function:
        error(ErrorKind::missing_function, "no function " + n.name + " taking " +
                                               std::to_string(n.kids.size()) + " argument(s)");
        return Val::boolean(false);
      case Op::function: return function(n);
      case Op::not_: {
        Val v;
        if (!operand(n.kids[0], Type::boolean, v)) return Val::boolean(false);
        return Val::boolean(!v.b());
      }
      case Op::negate: {
        Val v;
        if (!operand(n.kids[0], Type::integer, v)) return Val::integer(0);
        return checked(-static_cast<std::int64_t>(v.i()), "-");
      }
      case Op::and_:
      case Op::or_: {
        const bool stop_on = n.op == Op::or_;  // OR stops at true, AND at false
        for (auto k : n.kids) {
          Val v;
          if (!operand(k, Type::boolean, v)) return Val::boolean(false);
          if (v.b() == stop_on) return Val::boolean(stop_on);
        }
        return Val::boolean(!stop_on);
      }
      case Op::xor_: {
        bool acc = false;
        for (auto k : n.kids) {
          Val v;
          if (!operand(k, Type::boolean, v)) return Val::boolean(false);
          acc = acc != v.b();
        }
        return Val::boolean(acc);
      }
      case Op::add: case Op::sub: case Op::mul: case Op::div: case Op::mod:
        return arithmetic(n);
      case Op::lt: case Op::le: case Op::gt: case Op::ge: {
        Val x, y;
        if (!operand(n.kids[0], Type::integer, x) || !operand(n.kids[1], Type::integer, y))
          return Val::boolean(false);
        switch (n.op) {
          case Op::lt: return Val::boolean(x.i() < y.i());
          case Op::le: return Val::boolean(x.i() <= y.i());
          case Op::gt: return Val::boolean(x.i() > y.i());
          default: return Val::boolean(x.i() >= y.i());
        }
      }
      case Op::eq:
      case Op::ne: {
        // Ambiguous operator: the right operand's type picks the definition (3.7).
        Val x, y;
        if (!value(n.kids[0], x) || !value(n.kids[1], y)) return Val::boolean(false);
        if (!cast(x, y.type())) return Val::boolean(false);
        return Val::boolean(equal(x, y) == (n.op == Op::eq));
      }
      case Op::like: {
        Val x;
        if (!operand(n.kids[0], Type::string, x)) return Val::boolean(false);
        return Val::boolean(n.pattern->matches(x.s()) != n.negated);
      }
      case Op::in: return in(n);
    }
    return Val::boolean(false);
  }

 private:
  void error(ErrorKind k, std::string message) { errors_.push_back(EvalError{k, std::move(message)}); }

  // Evaluates a child; false when it (or anything below it) raised an error.
  bool value(std::uint32_t id, Val& out) {
    std::size_t before = errors_.size();
    out = run(id);
    return errors_.size() == before;
  }
  bool cast(Val& v, Type target) {
    if (auto message = detail::cast(v, target)) {
      error(ErrorKind::cast, std::move(*message));
      return false;
    }
    return true;
  }
  bool operand(std::uint32_t id, Type target, Val& out) { return value(id, out) && cast(out, target); }

  static bool equal(const Val& x, const Val& y) {
    switch (x.type()) {
      case Type::integer: return x.i() == y.i();
      case Type::string: return x.s() == y.s();
      case Type::boolean: break;
    }
    return x.b() == y.b();
  }

  Val checked(std::int64_t v, std::string_view op) {
    if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max()) {
      error(ErrorKind::math, "integer overflow in '" + std::string(op) + "'");
      return Val::integer(0);
    }
    return Val::integer(static_cast<std::int32_t>(v));
  }

  Val arithmetic(const Node& n) {
    Val x, y;
    if (!operand(n.kids[0], Type::integer, x) || !operand(n.kids[1], Type::integer, y)) return Val::integer(0);
    const std::int64_t a = x.i(), b = y.i();
    switch (n.op) {
      case Op::add: return checked(a + b, "+");
      case Op::sub: return checked(a - b, "-");
      case Op::mul: return checked(a * b, "*");
      default: break;
    }
    if (b == 0) {
      error(ErrorKind::math, n.op == Op::div ? "division by zero" : "modulo by zero");
      return Val::integer(0);
    }
    // C++ division truncates toward zero and the remainder takes the dividend's sign,
    // as the spec requires; 64 bits make INT_MIN / -1 an ordinary overflow.
    return n.op == Op::div ? checked(a / b, "/") : checked(a % b, "%");
  }

  Val in(const Node& n) {
    // The left operand's type is the target for every set element (3.7).
    Val x;
    if (!value(n.kids[0], x)) return Val::boolean(false);
    for (std::size_t i = 1; i < n.kids.size(); ++i) {
      Val y;
      if (!value(n.kids[i], y) || !cast(y, x.type())) return Val::boolean(false);
      if (equal(x, y)) return Val::boolean(!n.negated);
    }
    return Val::boolean(n.negated);
  }

  Val function(const Node& n) {
    const detail::FunctionDef& def = detail::function_def(n.fn);
    const std::size_t count = n.kids.size();
    Val inline_args[kInlineArgs];
    std::vector<Val> many;
    Val* args = inline_args;
    if (count > kInlineArgs) {
      many.resize(count);
      args = many.data();
    }
    for (std::size_t i = 0; i < count; ++i) {
      detail::Param p = i < def.fixed ? def.params[i] : def.rest;
      if (!value(n.kids[i], args[i])) return Val::zero(def.result);
      if (p == detail::Param::any) continue;
      Type target = p == detail::Param::integer ? Type::integer
                    : p == detail::Param::string ? Type::string
                                                 : Type::boolean;
      if (!cast(args[i], target)) return Val::zero(def.result);
    }
    return def.impl(args, count, detail::FnErrors{&errors_});
  }

  static Val literal(const Node& n) {
    switch (n.lit.type()) {
      case Type::integer: return Val::integer(std::get<std::int32_t>(n.lit.v));
      case Type::string: return Val::borrowed(std::get<std::string>(n.lit.v));
      case Type::boolean: break;
    }
    return Val::boolean(std::get<bool>(n.lit.v));
  }

  bool attribute_exists(const std::string& name) const { return ev_.attribute(name).has_value(); }

  Val attribute(const Node& n) {
    const auto& ext = ev_.extensions();
    if (auto it = ext.find(n.name); it != ext.end()) {
      const Extension& e = it->second;
      if (e.kind == JsonKind::integer) {
        if (auto i = detail::parse_int(e.value)) return Val::integer(*i);
      } else if (e.kind == JsonKind::boolean) {
        if (auto b = detail::parse_bool(e.value)) return Val::boolean(*b);
      }
      return Val::borrowed(e.value);
    }
    if (auto v = ev_.attribute(n.name)) return Val::borrowed(*v);
    error(ErrorKind::missing_attribute, "missing attribute '" + n.name + "'");
    return Val::boolean(false);
  }

  Val data_field(const Node& n) {
    const nlohmann::json* j = find_path(data_, n.path);
    if (j != nullptr) {
      if (j->is_string()) return Val::borrowed(j->get_ref<const std::string&>());
      if (j->is_boolean()) return Val::boolean(j->get<bool>());
      if (j->is_number_integer()) {
        auto v = j->get<std::int64_t>();
        if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max())
          return Val::integer(static_cast<std::int32_t>(v));
      } else if (j->is_number_unsigned()) {
        auto v = j->get<std::uint64_t>();
        if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
          return Val::integer(static_cast<std::int32_t>(v));
      } else if (j->is_number_float()) {
        double d = j->get<double>();
        if (d >= std::numeric_limits<std::int32_t>::min() && d <= std::numeric_limits<std::int32_t>::max() &&
            static_cast<double>(static_cast<std::int32_t>(d)) == d)
          return Val::integer(static_cast<std::int32_t>(d));
      }
      error(ErrorKind::missing_attribute,
            dotted(n.path) + " is not a string, a boolean or an integer within 32 bits");
      return Val::boolean(false);
    }
    error(ErrorKind::missing_attribute, "missing data field '" + dotted(n.path) + "'");
    return Val::boolean(false);
  }

  const Expression& ex_;
  const Event& ev_;
  const nlohmann::json* data_;
  std::vector<EvalError>& errors_;
};

}  // namespace

Evaluation evaluate(const Expression& expr, const Event& ev, const nlohmann::json* data) {
  Evaluation out{Value{false}, {}};
  Evaluator e(expr, ev, data, out.errors);
  out.value = e.run(expr.root_).to_value();
  return out;
}

bool matches(const Expression& expr, const Event& ev, const nlohmann::json* data) {
  std::vector<EvalError> errors;
  Evaluator e(expr, ev, data, errors);
  Val v = e.run(expr.root_);
  return errors.empty() && v.type() == Type::boolean && v.b();
}

}  // namespace evmesh::cesql
