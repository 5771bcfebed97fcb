// Static facts about a compiled expression: its text, whether it reads data, the
// conjuncts an index may anchor on, and problems found before evaluation.
#include "ast.h"
#include "cast.h"

namespace evmesh::cesql {
namespace {

using detail::Node;
using detail::Op;

// `'lit' = attr` makes attr's canonical string equal lit only when no cast could make
// a different spelling equal: attr may be an Integer or Boolean extension, and then
// '010' = 10 and 'TRUE' = true also hold. Canonical spellings are safe.
bool canonical_for_any_type(const std::string& lit) {
  if (auto i = detail::parse_int(lit); i && std::to_string(*i) != lit) return false;
  if (auto b = detail::parse_bool(lit); b && lit != (*b ? "true" : "false")) return false;
  return true;
}

void conjunct_of(const Expression& ex, const Node& n, std::vector<Conjunct>& out) {
  auto string_literal = [](const Node& m) { return m.op == Op::literal && m.lit.type() == Type::string; };
  if (n.op == Op::eq) {
    const Node& l = ex.nodes_[n.kids[0]];
    const Node& r = ex.nodes_[n.kids[1]];
    if (l.op == Op::attribute && string_literal(r))
      out.push_back({Conjunct::Kind::exact, l.name, std::get<std::string>(r.lit.v)});
    else if (r.op == Op::attribute && string_literal(l) && canonical_for_any_type(std::get<std::string>(l.lit.v)))
      out.push_back({Conjunct::Kind::exact, r.name, std::get<std::string>(l.lit.v)});
  } else if (n.op == Op::like && !n.negated) {
    const Node& l = ex.nodes_[n.kids[0]];
    if (l.op != Op::attribute) return;
    switch (n.pattern->shape()) {
      case detail::LikePattern::Shape::exact:
        out.push_back({Conjunct::Kind::exact, l.name, n.pattern->literal()});
        break;
      case detail::LikePattern::Shape::prefix:
        out.push_back({Conjunct::Kind::prefix, l.name, n.pattern->literal()});
        break;
      case detail::LikePattern::Shape::suffix:
        out.push_back({Conjunct::Kind::suffix, l.name, n.pattern->literal()});
        break;
      case detail::LikePattern::Shape::other:
        break;
    }
  }
}

}  // namespace

std::string_view to_string(ErrorKind k) {
  switch (k) {
    case ErrorKind::parse: return "parse";
    case ErrorKind::math: return "math";
    case ErrorKind::cast: return "cast";
    case ErrorKind::missing_attribute: return "missingAttribute";
    case ErrorKind::missing_function: return "missingFunction";
    case ErrorKind::function_evaluation: return "functionEvaluation";
  }
  return "generic";
}

const std::string& text(const Expression& expr) { return expr.text_; }

bool uses_data(const Expression& expr) { return expr.uses_data_; }

std::vector<Conjunct> indexable_conjuncts(const Expression& expr) {
  std::vector<Conjunct> out;
  const Node& root = expr.nodes_[expr.root_];
  if (root.op == Op::and_) {
    for (auto k : root.kids) conjunct_of(expr, expr.nodes_[k], out);
  } else {
    conjunct_of(expr, root, out);
  }
  return out;
}

std::vector<EvalError> static_errors(const Expression& expr) {
  std::vector<EvalError> out;
  for (const Node& n : expr.nodes_)
    if (n.op == Op::missing_function)
      out.push_back({ErrorKind::missing_function,
                     "no function " + n.name + " taking " + std::to_string(n.kids.size()) + " argument(s)"});
  return out;
}

}  // namespace evmesh::cesql
