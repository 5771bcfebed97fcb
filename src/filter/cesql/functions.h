// The built-in function table (spec section 3.5, plus the casting functions).
// Dispatch is by upper-cased name and arity at compile time; an invocation that does
// not resolve compiles to a missing_function node (false + MissingFunctionError when
// evaluated, as the spec requires; see compile_diagnostics() to reject it up front).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "value.h"

namespace evmesh::cesql::detail {

enum class Param : std::uint8_t { any, integer, string, boolean };

// Errors a function raises itself (FunctionEvaluationError, MathError).
struct FnErrors {
  std::vector<EvalError>* out;
  void add(ErrorKind k, std::string msg) const { out->push_back(EvalError{k, std::move(msg)}); }
};

using FnImpl = Val (*)(Val* args, std::size_t n, const FnErrors& errors);

struct FunctionDef {
  std::string_view name;
  std::size_t fixed;     // fixed parameters
  bool variadic;         // then any number of `rest`
  Param params[3];       // types of the fixed parameters
  Param rest;
  Type result;
  FnImpl impl;
};

// nullopt when no built-in has this name (case-insensitive) and arity.
std::optional<std::uint16_t> resolve_function(std::string_view name, std::size_t arity);
const FunctionDef& function_def(std::uint16_t id);
// True when some built-in has this name, whatever the arity (for messages).
bool function_name_known(std::string_view name);

// String built-ins (string_functions.cpp).
Val fn_length(Val* a, std::size_t n, const FnErrors& e);
Val fn_concat(Val* a, std::size_t n, const FnErrors& e);
Val fn_concat_ws(Val* a, std::size_t n, const FnErrors& e);
Val fn_lower(Val* a, std::size_t n, const FnErrors& e);
Val fn_upper(Val* a, std::size_t n, const FnErrors& e);
Val fn_trim(Val* a, std::size_t n, const FnErrors& e);
Val fn_left(Val* a, std::size_t n, const FnErrors& e);
Val fn_right(Val* a, std::size_t n, const FnErrors& e);
Val fn_substring(Val* a, std::size_t n, const FnErrors& e);

}  // namespace evmesh::cesql::detail
