// Internal value of the CESQL evaluator. Strings are borrowed (attribute values,
// literals) when possible and owned only when computed (casts, functions), so the
// common `attr = 'literal'` evaluates without allocating.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "evmesh/filter/cesql.h"

namespace evmesh::cesql::detail {

class Val {
 public:
  Val() = default;
  static Val integer(std::int32_t i) { Val v; v.type_ = Type::integer; v.i_ = i; return v; }
  static Val boolean(bool b) { Val v; v.type_ = Type::boolean; v.b_ = b; return v; }
  static Val borrowed(std::string_view s) { Val v; v.type_ = Type::string; v.view_ = s; return v; }
  static Val owned(std::string s) {
    Val v;
    v.type_ = Type::string;
    v.own_ = std::move(s);
    v.owned_ = true;
    return v;
  }
  static Val zero(Type t) {
    switch (t) {
      case Type::integer: return integer(0);
      case Type::string: return borrowed({});
      case Type::boolean: break;
    }
    return boolean(false);
  }

  Type type() const { return type_; }
  std::int32_t i() const { return i_; }
  bool b() const { return b_; }
  std::string_view s() const { return owned_ ? std::string_view(own_) : view_; }

  Value to_value() const {
    switch (type_) {
      case Type::integer: return Value{i_};
      case Type::string: return Value{std::string(s())};
      case Type::boolean: break;
    }
    return Value{b_};
  }

 private:
  Type type_ = Type::boolean;
  bool b_ = false;
  bool owned_ = false;
  std::int32_t i_ = 0;
  std::string_view view_;
  std::string own_;
};

std::string_view type_name(Type t);

}  // namespace evmesh::cesql::detail
