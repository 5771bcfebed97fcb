// String built-ins. "Character" means Unicode code point throughout (LENGTH, LEFT,
// RIGHT, SUBSTRING). LOWER/UPPER use simple one-to-one case mapping for ASCII, Latin-1,
// Latin Extended-A, Greek and Cyrillic; other characters are left unchanged (no
// locale, no one-to-many mappings such as German sharp s -> "SS"). TRIM removes Unicode
// White_Space characters from both ends.
#include <cstdint>
#include <string>

#include "functions.h"
#include "utf8.h"

namespace evmesh::cesql::detail {
namespace {

bool is_white_space(std::uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Latin Extended-A (U+0100..U+017F) pairs upper/lower as even/odd, except two runs
// where the upper case letter is odd.
bool latin_ext_a_upper_is_odd(std::uint32_t c) {
  return (c >= 0x0139 && c <= 0x0148) || (c >= 0x0179 && c <= 0x017E);
}

std::uint32_t to_lower(std::uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    bool odd = c & 1;
    if (latin_ext_a_upper_is_odd(c)) return odd ? c + 1 : c;
    return odd ? c : c + 1;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

std::uint32_t to_upper(std::uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    bool odd = c & 1;
    if (latin_ext_a_upper_is_odd(c)) return odd ? c : c - 1;
    return odd ? c - 1 : c;
  }
  if (c == 0x3C2) return 0x3A3;  // final sigma
  if (c >= 0x3B1 && c <= 0x3C9) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

template <typename Map>
Val map_chars(std::string_view s, Map map) {
  std::string out;
  out.reserve(s.size());
  std::size_t len = 0;
  for (std::size_t i = 0; i < s.size(); i += len) {
    std::uint32_t cp = utf8::decode(s, i, len);
    std::uint32_t mapped = map(cp);
    if (mapped == cp) out.append(s.substr(i, len));
    else utf8::encode(mapped, out);
  }
  return Val::owned(std::move(out));
}

// Returns x unchanged; the caller already owns or borrows it.
Val same(Val& x) { return std::move(x); }

}  // namespace

Val fn_length(Val* a, std::size_t, const FnErrors&) {
  return Val::integer(static_cast<std::int32_t>(utf8::length(a[0].s())));
}

Val fn_concat(Val* a, std::size_t n, const FnErrors&) {
  if (n == 1) return same(a[0]);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += a[i].s();
  return Val::owned(std::move(out));
}

Val fn_concat_ws(Val* a, std::size_t n, const FnErrors&) {
  std::string out;
  for (std::size_t i = 1; i < n; ++i) {
    if (i > 1) out += a[0].s();
    out += a[i].s();
  }
  return Val::owned(std::move(out));
}

Val fn_lower(Val* a, std::size_t, const FnErrors&) { return map_chars(a[0].s(), to_lower); }
Val fn_upper(Val* a, std::size_t, const FnErrors&) { return map_chars(a[0].s(), to_upper); }

Val fn_trim(Val* a, std::size_t, const FnErrors&) {
  std::string_view s = a[0].s();
  std::size_t begin = 0, end = s.size(), len = 0;
  while (begin < end && is_white_space(utf8::decode(s, begin, len))) begin += len;
  // Walk forward to find the last non-space character (UTF-8 cannot be decoded backwards
  // without care, and strings here are short).
  std::size_t last_end = begin;
  for (std::size_t i = begin; i < end; i += len) {
    if (!is_white_space(utf8::decode(s, i, len))) last_end = i + len;
  }
  return Val::owned(std::string(s.substr(begin, last_end - begin)));
}

Val fn_left(Val* a, std::size_t, const FnErrors& e) {
  std::int32_t y = a[1].i();
  if (y < 0) {
    e.add(ErrorKind::function_evaluation, "LEFT: length must not be negative, got " + std::to_string(y));
    return same(a[0]);
  }
  std::string_view s = a[0].s();
  return Val::owned(std::string(s.substr(0, utf8::offset_of(s, static_cast<std::size_t>(y)))));
}

Val fn_right(Val* a, std::size_t, const FnErrors& e) {
  std::int32_t y = a[1].i();
  if (y < 0) {
    e.add(ErrorKind::function_evaluation, "RIGHT: length must not be negative, got " + std::to_string(y));
    return same(a[0]);
  }
  std::string_view s = a[0].s();
  std::size_t chars = utf8::length(s);
  if (static_cast<std::size_t>(y) >= chars) return same(a[0]);
  return Val::owned(std::string(s.substr(utf8::offset_of(s, chars - static_cast<std::size_t>(y)))));
}

// SUBSTRING(x, pos[, len]): pos is 1-based; negative counts from the end; 0 gives "".
Val fn_substring(Val* a, std::size_t n, const FnErrors& e) {
  std::string_view s = a[0].s();
  const std::int64_t chars = static_cast<std::int64_t>(utf8::length(s));
  const std::int64_t pos = a[1].i();
  if (pos > chars || pos < -chars) {
    e.add(ErrorKind::function_evaluation, "SUBSTRING: position " + std::to_string(pos) +
                                              " is outside a string of length " + std::to_string(chars));
    return Val::borrowed({});
  }
  if (n == 3 && a[2].i() < 0) {
    e.add(ErrorKind::function_evaluation, "SUBSTRING: length must not be negative, got " + std::to_string(a[2].i()));
    return Val::borrowed({});
  }
  if (pos == 0) return Val::borrowed({});
  const std::int64_t start = pos > 0 ? pos - 1 : chars + pos;  // 0-based character index
  std::int64_t count = chars - start;
  if (n == 3 && a[2].i() < count) count = a[2].i();
  std::size_t from = utf8::offset_of(s, static_cast<std::size_t>(start));
  std::size_t to = from + utf8::offset_of(s.substr(from), static_cast<std::size_t>(count));
  return Val::owned(std::string(s.substr(from, to - from)));
}

}  // namespace evmesh::cesql::detail
