#include "cast.h"

#include <charconv>

namespace evmesh::cesql::detail {

std::string_view type_name(Type t) {
  switch (t) {
    case Type::integer: return "Integer";
    case Type::string: return "String";
    case Type::boolean: break;
  }
  return "Boolean";
}

std::optional<std::int32_t> parse_int(std::string_view s) {
  // Optional sign, then at least one base-10 digit; nothing else (no blanks).
  std::string_view digits = s;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  for (char c : digits)
    if (c < '0' || c > '9') return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  std::int32_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 10);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return out;
}

std::optional<bool> parse_bool(std::string_view s) {
  auto equals_ci = [s](std::string_view lower) {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lower[i]) return false;
    }
    return true;
  };
  if (equals_ci("true")) return true;
  if (equals_ci("false")) return false;
  return std::nullopt;
}

namespace {

std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 32;
  std::string out = "'";
  if (s.size() <= kMax) {
    out += s;
  } else {
    std::size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    out += s.substr(0, n);
    out += "...";
  }
  out += "'";
  return out;
}

}  // namespace

std::optional<std::string> cast(Val& v, Type target) {
  if (v.type() == target) return std::nullopt;
  switch (target) {
    case Type::string:
      if (v.type() == Type::integer) v = Val::owned(std::to_string(v.i()));
      else v = Val::borrowed(v.b() ? "true" : "false");
      return std::nullopt;
    case Type::integer:
      if (v.type() == Type::boolean) {
        v = Val::integer(v.b() ? 1 : 0);
        return std::nullopt;
      }
      if (auto i = parse_int(v.s())) {
        v = Val::integer(*i);
        return std::nullopt;
      } else {
        std::string msg = "cannot cast String " + shown(v.s()) + " to Integer";
        v = Val::integer(0);
        return msg;
      }
    case Type::boolean:
      if (v.type() == Type::integer) {
        v = Val::boolean(v.i() != 0);
        return std::nullopt;
      }
      if (auto b = parse_bool(v.s())) {
        v = Val::boolean(*b);
        return std::nullopt;
      } else {
        std::string msg = "cannot cast String " + shown(v.s()) + " to Boolean";
        v = Val::boolean(false);
        return msg;
      }
  }
  return std::nullopt;
}

}  // namespace evmesh::cesql::detail
