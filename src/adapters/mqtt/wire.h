// Primitive MQTT data types (1.5 / 2.1.4): big-endian integers, variable byte
// integers, length-prefixed UTF-8 strings and binary data. Internal to the codec.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace evmesh::mqtt::wire {

// Reads from a bounded buffer. A read past the end or a malformed value sets
// `error` (first one wins) and returns a zero value; callers check ok() at the end
// of each section, so no read ever goes out of bounds.
class Reader {
 public:
  explicit Reader(std::string_view buf) : buf_(buf) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  std::size_t remaining() const { return buf_.size() - pos_; }
  bool done() const { return pos_ == buf_.size(); }

  std::uint8_t u8(std::string_view what);
  std::uint16_t u16(std::string_view what);
  std::uint32_t u32(std::string_view what);
  std::uint32_t varint(std::string_view what);
  std::string binary(std::string_view what);
  // UTF-8 string: well formed, no U+0000 (1.5.4).
  std::string utf8(std::string_view what);
  // Everything left.
  std::string rest();
  // A sub-reader over the next `n` bytes (a property block).
  Reader sub(std::size_t n, std::string_view what);

 private:
  bool need(std::size_t n, std::string_view what);
  std::string_view buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

void put_u8(std::string& out, std::uint8_t v);
void put_u16(std::string& out, std::uint16_t v);
void put_u32(std::string& out, std::uint32_t v);
void put_varint(std::string& out, std::uint32_t v);
void put_string(std::string& out, std::string_view s);  // UTF-8 string or binary data
std::size_t varint_size(std::uint32_t v);

inline constexpr std::uint32_t kMaxVarint = 268'435'455;  // 4 bytes of 7 bits

}  // namespace evmesh::mqtt::wire
