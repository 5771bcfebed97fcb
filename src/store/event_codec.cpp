#include "event_codec.h"

#include <cstdint>

namespace evmesh::store::detail {
namespace {

constexpr std::uint8_t kVersion = 1;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<std::uint8_t>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!u8(b)) return false;
      v |= std::uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool bytes(std::string_view& s) {
    std::uint64_t n;
    if (!varint(n) || n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

Result<EventPtr> damaged(std::string_view what) {
  return fail(Errc::internal, "damaged event record in the store: " + std::string(what));
}

}  // namespace

void encode_event(const Event& ev, std::string& out) {
  out.push_back(static_cast<char>(kVersion));
  std::uint64_t count = 0;
  ev.for_each_attribute([&](std::string_view, std::string_view) { ++count; });
  put_varint(out, count);
  ev.for_each_attribute([&](std::string_view name, std::string_view value) {
    auto ext = ev.extensions().find(name);
    out.push_back(static_cast<char>(ext == ev.extensions().end() ? JsonKind::string : ext->second.kind));
    put_bytes(out, name);
    put_bytes(out, value);
  });
  out.push_back(ev.has_data() ? 1 : 0);
  if (ev.has_data()) put_bytes(out, *ev.data());
}

std::size_t encoded_size(const Event& ev) {
  thread_local std::string record;
  record.clear();
  encode_event(ev, record);
  return record.size();
}

Result<EventPtr> decode_event(std::string_view record) {
  Reader in(record);
  std::uint8_t version;
  if (!in.u8(version) || version != kVersion) return damaged("unknown record version");
  std::uint64_t count;
  if (!in.varint(count)) return damaged("truncated attribute count");
  EventBuilder builder;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint8_t kind;
    std::string_view name, value;
    if (!in.u8(kind) || kind > static_cast<std::uint8_t>(JsonKind::integer) || !in.bytes(name) ||
        !in.bytes(value))
      return damaged("truncated attribute");
    builder.set(name, std::string(value), static_cast<JsonKind>(kind));
  }
  std::uint8_t has_data;
  if (!in.u8(has_data)) return damaged("truncated data flag");
  if (has_data) {
    std::string_view data;
    if (!in.bytes(data)) return damaged("truncated data");
    builder.data(Bytes(data));
  }
  if (!in.done()) return damaged("trailing bytes");
  auto ev = std::move(builder).build();
  if (!ev) return damaged(ev.error().message);
  return ev;
}

}  // namespace evmesh::store::detail
