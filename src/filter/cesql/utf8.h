// Minimal UTF-8 walking for CESQL's character-based functions. Lenient: a byte that
// does not start a well-formed sequence counts as one character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace evmesh::cesql::detail::utf8 {

// Decodes the code point at s[i]; sets len to its byte length.
inline std::uint32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || i + n > s.size()) { len = 1; return c; }
  for (std::size_t k = 1; k < n; ++k)
    if ((b(k) & 0xC0) != 0x80) { len = 1; return c; }
  len = n;
  if (n == 1) return c;
  std::uint32_t cp = n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (b(k) & 0x3F);
  return cp;
}

inline void encode(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

inline std::size_t length(std::string_view s) {
  std::size_t n = 0, len = 0;
  for (std::size_t i = 0; i < s.size(); i += len, ++n) decode(s, i, len);
  return n;
}

// Byte offset of the character with index `chars` (0-based); s.size() past the end.
inline std::size_t offset_of(std::string_view s, std::size_t chars) {
  std::size_t i = 0, len = 0;
  while (chars > 0 && i < s.size()) {
    decode(s, i, len);
    i += len;
    --chars;
  }
  return i;
}

}  // namespace evmesh::cesql::detail::utf8
