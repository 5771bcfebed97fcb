// The compiled form of a CESQL expression: a flat array of nodes, children by index,
// evaluated by one switch (evaluator.cpp). Built once by the parser, then immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evmesh/filter/cesql.h"
#include "like.h"

namespace evmesh::cesql::detail {

enum class Op : std::uint8_t {
  literal,     // value in lit
  attribute,   // name in name
  data_field,  // path in path
  exists,      // attribute name in name, or path when path is non-empty
  missing_function,  // unknown name/arity: false + MissingFunctionError at run time
  function,    // fn: index into the built-in table
  not_, negate,
  and_, or_, xor_,       // n-ary (chains of the same operator are flattened)
  add, sub, mul, div, mod,
  eq, ne, lt, le, gt, ge,
  like,        // child 0 LIKE pattern (negated when `negated`)
  in,          // child 0 IN (children 1..n)
};

struct Node {
  Op op = Op::literal;
  bool negated = false;           // NOT LIKE / NOT IN
  std::optional<Type> result;     // static result type; nullopt for attributes (unknown)
  std::uint16_t fn = 0;
  std::vector<std::uint32_t> kids;
  Value lit{false};
  std::string name;               // attribute name, or function name as written
  std::vector<std::string> path;  // data path segments
  std::unique_ptr<LikePattern> pattern;
};

}  // namespace evmesh::cesql::detail

namespace evmesh::cesql {

class Expression {
 public:
  std::string text_;
  std::vector<detail::Node> nodes_;
  std::uint32_t root_ = 0;
  bool uses_data_ = false;
};

}  // namespace evmesh::cesql
