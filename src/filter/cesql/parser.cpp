// Recursive-descent parser for CESQL, producing the flat node array of ast.h.
//
// Precedence, tightest first (spec section 3.6 and the spec's ANTLR grammar):
//   function call, ( ), literals, identifiers, EXISTS identifier
//   NOT x, -x                 prefix; `NOT a = b` is `(NOT a) = b`
//   x [NOT] LIKE 'p', x [NOT] IN (...)
//   * / %      then  + -      then  = != <> < <= > >=
//   AND OR XOR                one level, left to right: `a OR b AND c` is
//                             `(a OR b) AND c` (unlike ISO SQL), so write parentheses
// Chains of one logical operator are flattened into one n-ary node, so long
// conjunctions do not count against the nesting limit.
//
// Limits: text length, nesting depth (AST depth and parser recursion) and node count
// are checked as the tree is built; crossing one fails the compile with
// "expression too complex: ...".
#include <limits>
#include <optional>

#include "ast.h"
#include "functions.h"
#include "lexer.h"

namespace evmesh::cesql {
namespace {

using detail::Node;
using detail::Op;
using detail::Tok;
using detail::Token;

struct Failure {
  std::string message;
};

class Parser {
 public:
  Parser(std::vector<Token> toks, const Limits& limits, Expression& out)
      : toks_(std::move(toks)), limits_(limits), ex_(out) {}

  std::optional<Failure> run() {
    auto root = expression();
    if (!root) return failure_;
    if (peek().kind != Tok::end) return fail_at(peek(), "unexpected " + std::string(describe(peek())));
    ex_.root_ = *root;
    return std::nullopt;
  }

 private:
  using NodeId = std::optional<std::uint32_t>;

  const Token& peek(std::size_t ahead = 0) const {
    std::size_t i = pos_ + ahead;
    return toks_[i < toks_.size() ? i : toks_.size() - 1];
  }
  const Token& next() { const Token& t = peek(); if (pos_ + 1 < toks_.size()) ++pos_; return t; }
  bool accept(Tok k) { if (peek().kind == k) { next(); return true; } return false; }

  std::nullopt_t fail(std::string message) {
    if (!failure_) failure_ = Failure{std::move(message)};
    return std::nullopt;
  }
  Failure fail_at(const Token& t, std::string what) {
    return Failure{"at position " + std::to_string(t.pos) + ": " + std::move(what)};
  }
  std::nullopt_t error_at(const Token& t, std::string what) { return fail(fail_at(t, std::move(what)).message); }
  std::nullopt_t expected(std::string_view what) {
    return error_at(peek(), "expected " + std::string(what) + ", found " + std::string(describe(peek())));
  }

  // Adds a node; enforces the node and depth limits.
  NodeId add(Node n) {
    if (ex_.nodes_.size() >= limits_.max_nodes)
      return fail("expression too complex: more than " + std::to_string(limits_.max_nodes) + " nodes");
    std::size_t d = 1;
    for (auto k : n.kids) d = std::max(d, depth_[k] + 1);
    if (d > limits_.max_depth)
      return fail("expression too complex: nesting deeper than " + std::to_string(limits_.max_depth));
    ex_.nodes_.push_back(std::move(n));
    depth_.push_back(d);
    return static_cast<std::uint32_t>(ex_.nodes_.size() - 1);
  }

  NodeId op_node(Op op, std::optional<Type> result, std::vector<std::uint32_t> kids) {
    Node n;
    n.op = op;
    n.result = result;
    n.kids = std::move(kids);
    return add(std::move(n));
  }

  // Guards parser recursion (parentheses, prefix operators, arguments) before the
  // tree exists to measure.
  struct Nest {
    Parser& p;
    bool ok;
    explicit Nest(Parser& parser) : p(parser), ok(++parser.nesting_ <= parser.limits_.max_depth) {}
    ~Nest() { --p.nesting_; }
  };
  std::nullopt_t too_deep() {
    return fail("expression too complex: nesting deeper than " + std::to_string(limits_.max_depth));
  }

  NodeId expression() {
    Nest nest(*this);
    if (!nest.ok) return too_deep();
    return logical();
  }

  NodeId logical() {
    NodeId left = comparison();
    while (left) {
      Op op;
      switch (peek().kind) {
        case Tok::kw_and: op = Op::and_; break;
        case Tok::kw_or: op = Op::or_; break;
        case Tok::kw_xor: op = Op::xor_; break;
        default: return left;
      }
      next();
      NodeId right = comparison();
      if (!right) return std::nullopt;
      Node& l = ex_.nodes_[*left];
      if (l.op == op) {
        l.kids.push_back(*right);
        std::size_t d = std::max(depth_[*left], depth_[*right] + 1);
        if (d > limits_.max_depth) return too_deep();
        depth_[*left] = d;
        continue;
      }
      left = op_node(op, Type::boolean, {*left, *right});
    }
    return left;
  }

  NodeId comparison() {
    NodeId left = additive();
    while (left) {
      Op op;
      switch (peek().kind) {
        case Tok::eq: op = Op::eq; break;
        case Tok::ne: op = Op::ne; break;
        case Tok::lt: op = Op::lt; break;
        case Tok::le: op = Op::le; break;
        case Tok::gt: op = Op::gt; break;
        case Tok::ge: op = Op::ge; break;
        default: return left;
      }
      next();
      NodeId right = additive();
      if (!right) return std::nullopt;
      left = op_node(op, Type::boolean, {*left, *right});
    }
    return left;
  }

  NodeId additive() {
    NodeId left = multiplicative();
    while (left) {
      Op op;
      switch (peek().kind) {
        case Tok::plus: op = Op::add; break;
        case Tok::minus: op = Op::sub; break;
        default: return left;
      }
      next();
      NodeId right = multiplicative();
      if (!right) return std::nullopt;
      left = op_node(op, Type::integer, {*left, *right});
    }
    return left;
  }

  NodeId multiplicative() {
    NodeId left = postfix();
    while (left) {
      Op op;
      switch (peek().kind) {
        case Tok::star: op = Op::mul; break;
        case Tok::slash: op = Op::div; break;
        case Tok::percent: op = Op::mod; break;
        default: return left;
      }
      next();
      NodeId right = postfix();
      if (!right) return std::nullopt;
      left = op_node(op, Type::integer, {*left, *right});
    }
    return left;
  }

  // x [NOT] LIKE 'pattern' and x [NOT] IN (a, b, ...)
  NodeId postfix() {
    NodeId left = unary();
    while (left) {
      bool negated = false;
      if (peek().kind == Tok::kw_not && (peek(1).kind == Tok::kw_like || peek(1).kind == Tok::kw_in)) {
        next();
        negated = true;
      }
      if (accept(Tok::kw_like)) {
        const Token& pattern = peek();
        if (pattern.kind != Tok::string)
          return error_at(pattern, "the LIKE pattern must be a string literal, found " +
                                       std::string(describe(pattern)));
        next();
        Node n;
        n.op = Op::like;
        n.negated = negated;
        n.result = Type::boolean;
        n.kids = {*left};
        n.name = pattern.text;
        n.pattern = std::make_unique<detail::LikePattern>(pattern.text);
        left = add(std::move(n));
      } else if (accept(Tok::kw_in)) {
        if (!accept(Tok::lparen)) return expected("'(' after IN");
        std::vector<std::uint32_t> kids{*left};
        do {
          NodeId item = expression();
          if (!item) return std::nullopt;
          kids.push_back(*item);
        } while (accept(Tok::comma));
        if (!accept(Tok::rparen)) return expected("',' or ')' in the IN set");
        Node n;
        n.op = Op::in;
        n.negated = negated;
        n.result = Type::boolean;
        n.kids = std::move(kids);
        left = add(std::move(n));
      } else {
        return left;
      }
    }
    return left;
  }

  NodeId unary() {
    const Token& t = peek();
    if (t.kind == Tok::kw_not) {
      Nest nest(*this);
      if (!nest.ok) return too_deep();
      next();
      NodeId operand = unary();
      if (!operand) return std::nullopt;
      return op_node(Op::not_, Type::boolean, {*operand});
    }
    if ((t.kind == Tok::minus || t.kind == Tok::plus) && peek(1).kind == Tok::integer) {
      const Token& sign = next();
      return integer(next(), sign.kind == Tok::minus, sign);
    }
    if (t.kind == Tok::minus) {
      Nest nest(*this);
      if (!nest.ok) return too_deep();
      next();
      NodeId operand = unary();
      if (!operand) return std::nullopt;
      return op_node(Op::negate, Type::integer, {*operand});
    }
    if (t.kind == Tok::plus) return error_at(t, "'+' is only allowed as the sign of an integer literal");
    return primary();
  }

  NodeId integer(const Token& digits, bool negative, const Token& start) {
    // Accumulate in 64 bits; more than 10 digits (after leading zeros) is out of range.
    std::string_view d = digits.text;
    while (d.size() > 1 && d.front() == '0') d.remove_prefix(1);
    std::int64_t v = 0;
    bool range = d.size() <= 10;
    if (range) {
      for (char c : d) v = v * 10 + (c - '0');
      if (negative) v = -v;
      range = v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
    }
    if (!range) return error_at(start, "integer literal out of the 32-bit range");
    Node n;
    n.op = Op::literal;
    n.result = Type::integer;
    n.lit = Value{static_cast<std::int32_t>(v)};
    return add(std::move(n));
  }

  NodeId literal(Value v, Type t) {
    Node n;
    n.op = Op::literal;
    n.result = t;
    n.lit = std::move(v);
    return add(std::move(n));
  }

  static std::string lower(std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  }

  NodeId primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::lparen: {
        next();
        NodeId inner = expression();
        if (!inner) return std::nullopt;
        if (!accept(Tok::rparen)) return expected("')'");
        return inner;
      }
      case Tok::kw_true: next(); return literal(Value{true}, Type::boolean);
      case Tok::kw_false: next(); return literal(Value{false}, Type::boolean);
      case Tok::string: next(); return literal(Value{t.text}, Type::string);
      case Tok::integer: next(); return integer(t, false, t);
      case Tok::kw_exists: return exists();
      case Tok::data_path: {
        next();
        Node n;
        n.op = Op::data_field;
        n.path = t.path;
        ex_.uses_data_ = true;
        return add(std::move(n));
      }
      case Tok::word: {
        next();
        if (peek().kind == Tok::lparen) return call(t);
        for (char c : t.text)
          if (c == '_') return error_at(t, "'" + t.text + "' is not a valid attribute name (letters and digits only)");
        Node n;
        n.op = Op::attribute;
        n.name = lower(t.text);
        return add(std::move(n));
      }
      default:
        return expected("an expression");
    }
  }

  NodeId exists() {
    next();
    const Token& t = peek();
    Node n;
    n.op = Op::exists;
    n.result = Type::boolean;
    if (t.kind == Tok::word) {
      for (char c : t.text)
        if (c == '_') return error_at(t, "'" + t.text + "' is not a valid attribute name (letters and digits only)");
      n.name = lower(t.text);
    } else if (t.kind == Tok::data_path) {
      n.path = t.path;
      ex_.uses_data_ = true;
    } else {
      return expected("an attribute name after EXISTS");
    }
    next();
    return add(std::move(n));
  }

  NodeId call(const Token& name) {
    next();  // '('
    for (char c : name.text)
      if ((c >= '0' && c <= '9') || name.text.front() == '_')
        return error_at(name, "'" + name.text + "' is not a valid function name (letters and '_' only)");
    std::vector<std::uint32_t> args;
    if (!accept(Tok::rparen)) {
      do {
        NodeId arg = expression();
        if (!arg) return std::nullopt;
        args.push_back(*arg);
      } while (accept(Tok::comma));
      if (!accept(Tok::rparen)) return expected("',' or ')' in the argument list");
    }
    Node n;
    n.name = name.text;
    n.kids = std::move(args);
    if (auto id = detail::resolve_function(name.text, n.kids.size())) {
      n.op = Op::function;
      n.fn = *id;
      n.result = detail::function_def(*id).result;
    } else {
      n.op = Op::missing_function;
      n.result = Type::boolean;
    }
    return add(std::move(n));
  }

  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  const Limits& limits_;
  Expression& ex_;
  std::vector<std::size_t> depth_;        // AST depth per node
  std::size_t nesting_ = 0;
  std::optional<Failure> failure_;
};

}  // namespace

Result<ExpressionPtr> compile(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_text)
    return fail(Errc::invalid_subscription, "expression too complex: " + std::to_string(text.size()) +
                                                " characters, the limit is " + std::to_string(limits.max_text));
  std::vector<detail::Token> toks;
  detail::LexError lex_error;
  if (!detail::tokenize(text, toks, lex_error))
    return fail(Errc::invalid_subscription,
                "at position " + std::to_string(lex_error.pos) + ": " + lex_error.message);
  auto ex = std::make_shared<Expression>();
  ex->text_ = std::string(text);
  Parser parser(std::move(toks), limits, *ex);
  if (auto failure = parser.run()) return fail(Errc::invalid_subscription, std::move(failure->message));
  return ExpressionPtr(std::move(ex));
}

}  // namespace evmesh::cesql
