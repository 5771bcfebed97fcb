#include "wire.h"

#include "evmesh/core/event.h"

namespace evmesh::mqtt::wire {

bool Reader::need(std::size_t n, std::string_view what) {
  if (!ok()) return false;
  if (remaining() >= n) return true;
  fail(std::string(what) + " is truncated: needs " + std::to_string(n) + " bytes, " +
       std::to_string(remaining()) + " left");
  return false;
}

std::uint8_t Reader::u8(std::string_view what) {
  if (!need(1, what)) return 0;
  return static_cast<std::uint8_t>(buf_[pos_++]);
}

std::uint16_t Reader::u16(std::string_view what) {
  if (!need(2, what)) return 0;
  auto v = static_cast<std::uint16_t>(static_cast<std::uint8_t>(buf_[pos_]) << 8 |
                                      static_cast<std::uint8_t>(buf_[pos_ + 1]));
  pos_ += 2;
  return v;
}

std::uint32_t Reader::u32(std::string_view what) {
  std::uint32_t hi = u16(what), lo = u16(what);
  return hi << 16 | lo;
}

std::uint32_t Reader::varint(std::string_view what) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    if (!need(1, what)) return 0;
    auto b = static_cast<std::uint8_t>(buf_[pos_++]);
    value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      // 1.5.5: the encoding must be minimal ("0x80 0x00" is not zero).
      if (i > 0 && b == 0) fail(std::string(what) + " is not minimally encoded");
      return value;
    }
  }
  fail(std::string(what) + " is a variable byte integer longer than 4 bytes");
  return 0;
}

std::string Reader::binary(std::string_view what) {
  std::uint16_t n = u16(what);
  if (!need(n, what)) return {};
  std::string s(buf_.substr(pos_, n));
  pos_ += n;
  return s;
}

std::string Reader::utf8(std::string_view what) {
  std::string s = binary(what);
  if (!ok()) return {};
  if (!valid_utf8(s)) fail(std::string(what) + " is not well-formed UTF-8");
  else if (s.find('\0') != std::string::npos) fail(std::string(what) + " contains U+0000");
  return s;
}

std::string Reader::rest() {
  std::string s(buf_.substr(pos_));
  pos_ = buf_.size();
  return s;
}

Reader Reader::sub(std::size_t n, std::string_view what) {
  if (!need(n, what)) return Reader({});
  Reader r(buf_.substr(pos_, n));
  pos_ += n;
  return r;
}

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put_u32(std::string& out, std::uint32_t v) {
  put_u16(out, static_cast<std::uint16_t>(v >> 16));
  put_u16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}
void put_varint(std::string& out, std::uint32_t v) {
  do {
    std::uint8_t b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v);
}
void put_string(std::string& out, std::string_view s) {
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}
std::size_t varint_size(std::uint32_t v) {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2'097'152 ? 3 : 4;
}

}  // namespace evmesh::mqtt::wire
