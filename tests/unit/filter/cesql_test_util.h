// Shared by the CESQL tests: a readable form of a value for assertion messages.
#pragma once

#include <string>

#include "evmesh/filter/cesql.h"

namespace evmesh::cesql {

inline std::string describe(const Value& v) {
  switch (v.type()) {
    case Type::integer: return "Integer " + std::to_string(std::get<std::int32_t>(v.v));
    case Type::string: return "String '" + std::get<std::string>(v.v) + "'";
    case Type::boolean: break;
  }
  return std::get<bool>(v.v) ? "Boolean true" : "Boolean false";
}

}  // namespace evmesh::cesql
