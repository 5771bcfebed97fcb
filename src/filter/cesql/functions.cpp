// The function table, the math built-in and the casting functions. INT, BOOL and
// STRING take any type and apply the spec's cast (a failed cast is a CastError with the
// zero value). IS_INT(x: String) and IS_BOOL(x: String) (from the CESQL drafts; v1.0
// no longer requires them) say whether the string form of x casts, never failing:
// IS_INT('5') and IS_INT(5) are true, IS_INT(TRUE) is false ('true' is no integer).
#include "functions.h"

#include <array>
#include <limits>

#include "cast.h"

namespace evmesh::cesql::detail {
namespace {

Val fn_abs(Val* a, std::size_t, const FnErrors& e) {
  std::int32_t x = a[0].i();
  if (x == std::numeric_limits<std::int32_t>::min()) {
    e.add(ErrorKind::math, "ABS overflows for -2147483648");
    return Val::integer(std::numeric_limits<std::int32_t>::max());
  }
  return Val::integer(x < 0 ? -x : x);
}

Val cast_fn(Val& v, Type t, const FnErrors& e) {
  if (auto err = cast(v, t)) e.add(ErrorKind::cast, std::move(*err));
  return std::move(v);
}

Val fn_int(Val* a, std::size_t, const FnErrors& e) { return cast_fn(a[0], Type::integer, e); }
Val fn_bool(Val* a, std::size_t, const FnErrors& e) { return cast_fn(a[0], Type::boolean, e); }
Val fn_string(Val* a, std::size_t, const FnErrors& e) { return cast_fn(a[0], Type::string, e); }

Val fn_is_int(Val* a, std::size_t, const FnErrors&) { return Val::boolean(parse_int(a[0].s()).has_value()); }
Val fn_is_bool(Val* a, std::size_t, const FnErrors&) { return Val::boolean(parse_bool(a[0].s()).has_value()); }

using P = Param;
constexpr std::array<FunctionDef, 16> kFunctions{{
    {"LENGTH", 1, false, {P::string}, P::any, Type::integer, fn_length},
    {"CONCAT", 0, true, {}, P::string, Type::string, fn_concat},
    {"CONCAT_WS", 1, true, {P::string}, P::string, Type::string, fn_concat_ws},
    {"LOWER", 1, false, {P::string}, P::any, Type::string, fn_lower},
    {"UPPER", 1, false, {P::string}, P::any, Type::string, fn_upper},
    {"TRIM", 1, false, {P::string}, P::any, Type::string, fn_trim},
    {"LEFT", 2, false, {P::string, P::integer}, P::any, Type::string, fn_left},
    {"RIGHT", 2, false, {P::string, P::integer}, P::any, Type::string, fn_right},
    {"SUBSTRING", 2, false, {P::string, P::integer}, P::any, Type::string, fn_substring},
    {"SUBSTRING", 3, false, {P::string, P::integer, P::integer}, P::any, Type::string, fn_substring},
    {"ABS", 1, false, {P::integer}, P::any, Type::integer, fn_abs},
    {"INT", 1, false, {P::any}, P::any, Type::integer, fn_int},
    {"BOOL", 1, false, {P::any}, P::any, Type::boolean, fn_bool},
    {"STRING", 1, false, {P::any}, P::any, Type::string, fn_string},
    {"IS_INT", 1, false, {P::string}, P::any, Type::boolean, fn_is_int},
    {"IS_BOOL", 1, false, {P::string}, P::any, Type::boolean, fn_is_bool},
}};

bool name_equals(std::string_view upper_name, std::string_view written) {
  if (upper_name.size() != written.size()) return false;
  for (std::size_t i = 0; i < written.size(); ++i) {
    char c = written[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper_name[i]) return false;
  }
  return true;
}

}  // namespace

const FunctionDef& function_def(std::uint16_t id) {
  return kFunctions[id];
}

std::optional<std::uint16_t> resolve_function(std::string_view name, std::size_t arity) {
  for (std::uint16_t id = 0; id < kFunctions.size(); ++id) {
    const FunctionDef& f = function_def(id);
    if (!name_equals(f.name, name)) continue;
    if (arity == f.fixed || (f.variadic && arity > f.fixed)) return id;
  }
  return std::nullopt;
}

bool function_name_known(std::string_view name) {
  for (std::uint16_t id = 0; id < kFunctions.size(); ++id)
    if (name_equals(function_def(id).name, name)) return true;
  return false;
}

}  // namespace evmesh::cesql::detail
