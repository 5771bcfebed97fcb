#include "utf8.h"

#include <cstdint>

namespace evmesh::codec {

bool valid_utf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    if (*p < 0x80) {  // ASCII fast path: the common case for headers and JSON text
      ++p;
      continue;
    }
    std::uint32_t cp;
    int len;
    if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; len = 2; }
    else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; len = 3; }
    else if ((*p & 0xF8) == 0xF0) { cp = *p & 0x07; len = 4; }
    else return false;
    if (end - p < len) return false;
    for (int i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF) return false;  // overlong or out of range
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;      // surrogates are not characters
    p += len;
  }
  return true;
}

}  // namespace evmesh::codec
