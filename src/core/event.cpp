#include "evmesh/core/event.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "evmesh/core/timestamp.h"

namespace evmesh {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (!is_digit(s[i])) return false;
  return true;
}

int number(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// Decodes UTF-8, calling `accept(code_point)` for each character; false on malformed
// input (overlong forms, surrogates, beyond U+10FFFF) or when `accept` says no.
template <typename Accept>
bool decode_utf8(std::string_view s, Accept&& accept) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (*p < 0x80) {  // ASCII fast path: the common case for headers and JSON text
      if (!accept(std::uint32_t{*p})) return false;
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
    if (!accept(cp)) return false;
    p += len;
  }
  return true;
}

// The code points the CloudEvents String type forbids besides malformed UTF-8:
// controls U+0000-U+001F and U+007F-U+009F, and noncharacters.
bool valid_string_value(std::string_view s) {
  // Printable ASCII, nearly every value, needs no decoding: skip it a byte at a time.
  std::size_t ascii = 0;
  while (ascii < s.size() && static_cast<unsigned char>(s[ascii]) - 0x20u < 0x5Fu) ++ascii;
  if (ascii == s.size()) return true;
  return decode_utf8(s.substr(ascii), [](std::uint32_t cp) {
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) return false;
    return !((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE);
  });
}

}  // namespace

bool valid_utf8(std::string_view bytes) {
  return decode_utf8(bytes, [](std::uint32_t) { return true; });
}

bool valid_attribute_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || is_digit(c))) return false;
  return true;
}

bool valid_uri_reference(std::string_view s) {
  // RFC 3986 characters: unreserved, reserved and "%" HEXDIG HEXDIG. The ASCII
  // characters it never allows are rejected; non-ASCII is let through so IRIs
  // (RFC 3987) from real producers still pass. At most one '#' (fragment).
  if (s.empty()) return false;
  static constexpr auto kNever = [] {
    std::array<bool, 256> never{};
    for (int c = 0; c <= 0x20; ++c) never[c] = true;
    for (unsigned char c : std::string_view("\"<>\\^`{|}\x7F")) never[c] = true;
    return never;
  }();
  bool fragment = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (kNever[c]) return false;
    if (c == '%' && !(i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]))) return false;
    if (c == '#') {
      if (fragment) return false;
      fragment = true;
    }
  }
  return true;
}

bool valid_uri(std::string_view s) {
  // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
  if (!valid_uri_reference(s) || !is_alpha(s[0])) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return true;
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return false;
  }
  return false;
}

bool valid_timestamp(std::string_view s) {
  // RFC 3339 date-time: YYYY-MM-DD(T|t)HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM). The space
  // separator of RFC 3339's note is not part of its ABNF, so it is rejected.
  if (s.size() < 20) return false;
  if (!digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
    return false;
  if (s[10] != 'T' && s[10] != 't') return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return false;
  int year = number(s, 0, 4), month = number(s, 5, 2), day = number(s, 8, 2);
  int hour = number(s, 11, 2), minute = number(s, 14, 2), second = number(s, 17, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max_day = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > max_day || hour > 23 || minute > 59 || second > 60) return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  if (s.size() - i != 6 || !digits(s, i + 1, 2) || s[i + 3] != ':' || !digits(s, i + 4, 2))
    return false;
  return number(s, i + 1, 2) <= 23 && number(s, i + 4, 2) <= 59;
}

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s) {
  using namespace std::chrono;
  if (!valid_timestamp(s)) return std::nullopt;
  // system_clock counts nanoseconds: it spans the years 1678..2262 only.
  if (number(s, 0, 4) >= 2262) return system_clock::time_point::max();
  if (number(s, 0, 4) <= 1678) return system_clock::time_point::min();
  const year_month_day date{year{number(s, 0, 4)}, month{static_cast<unsigned>(number(s, 5, 2))},
                            day{static_cast<unsigned>(number(s, 8, 2))}};
  auto t = sys_days{date} + hours{number(s, 11, 2)} + minutes{number(s, 14, 2)} +
           seconds{std::min(number(s, 17, 2), 59)};
  microseconds frac{0};
  std::size_t i = 19;
  if (s[i] == '.') {
    std::int64_t scale = 100000;
    for (++i; i < s.size() && is_digit(s[i]); ++i, scale /= 10)
      frac += microseconds{(s[i] - '0') * scale};
  }
  system_clock::time_point at{duration_cast<system_clock::duration>(t.time_since_epoch() + frac)};
  if (s[i] == 'Z' || s[i] == 'z') return at;
  const minutes offset = hours{number(s, i + 1, 2)} + minutes{number(s, i + 4, 2)};
  return s[i] == '+' ? at - offset : at + offset;  // local time = UTC + offset
}

bool valid_integer(std::string_view s) {
  // Canonical form (core spec, Type System): the integer component of a JSON number
  // (RFC 7159 section 6) with an optional minus: no '+', no leading zeros.
  std::size_t start = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (start == s.size()) return false;
  if (s[start] == '0' && s.size() > start + 1) return false;
  for (std::size_t i = start; i < s.size(); ++i)
    if (!is_digit(s[i])) return false;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return false;
  return v >= INT32_MIN && v <= INT32_MAX;
}

bool valid_boolean(std::string_view s) { return s == "true" || s == "false"; }

std::optional<AttrType> core_attribute_type(std::string_view name) {
  if (name == "id" || name == "type" || name == "specversion" || name == "subject" ||
      name == "datacontenttype")
    return AttrType::string;
  if (name == "source") return AttrType::uri_reference;
  if (name == "dataschema") return AttrType::uri;
  if (name == "time") return AttrType::timestamp;
  return std::nullopt;
}

std::optional<std::string_view> Event::attribute(std::string_view name) const {
  auto opt = [](const std::optional<std::string>& v) -> std::optional<std::string_view> {
    if (v) return std::string_view(*v);
    return std::nullopt;
  };
  switch (name.size()) {
    case 2: if (name == "id") return id_; break;
    case 4:
      if (name == "type") return type_;
      if (name == "time") return opt(time_);
      break;
    case 6: if (name == "source") return source_; break;
    case 7: if (name == "subject") return opt(subject_); break;
    case 10: if (name == "dataschema") return opt(dataschema_); break;
    case 11: if (name == "specversion") return specversion_; break;
    case 15: if (name == "datacontenttype") return opt(datacontenttype_); break;
    default: break;
  }
  if (auto it = extensions_.find(name); it != extensions_.end()) return it->second.value;
  return std::nullopt;
}

std::size_t Event::approximate_size() const {
  std::size_t n = data_ ? data_->size() : 0;
  for_each_attribute([&](std::string_view k, std::string_view v) { n += k.size() + v.size(); });
  return n;
}

bool operator==(const Event& a, const Event& b) {
  bool data_equal = (a.data_ == nullptr) == (b.data_ == nullptr) &&
                    (a.data_ == nullptr || *a.data_ == *b.data_);
  return data_equal && a.id_ == b.id_ && a.source_ == b.source_ &&
         a.specversion_ == b.specversion_ && a.type_ == b.type_ &&
         a.datacontenttype_ == b.datacontenttype_ && a.dataschema_ == b.dataschema_ &&
         a.subject_ == b.subject_ && a.time_ == b.time_ && a.extensions_ == b.extensions_;
}

EventBuilder::EventBuilder(const Event& base) : ev_(base) {}

EventBuilder& EventBuilder::set(std::string_view name, std::string value, JsonKind kind) {
  if (name == "id") ev_.id_ = std::move(value);
  else if (name == "source") ev_.source_ = std::move(value);
  else if (name == "specversion") ev_.specversion_ = std::move(value);
  else if (name == "type") ev_.type_ = std::move(value);
  else if (name == "datacontenttype") ev_.datacontenttype_ = std::move(value);
  else if (name == "dataschema") ev_.dataschema_ = std::move(value);
  else if (name == "subject") ev_.subject_ = std::move(value);
  else if (name == "time") ev_.time_ = std::move(value);
  else if (!valid_attribute_name(name) || name == "data")
    pending_errors_.emplace_back(std::string(name),
                                 "attribute name '" + std::string(name) +
                                     "' is invalid: names are lower-case letters and digits "
                                     "only, and 'data' is reserved");
  else
    ev_.extensions_.insert_or_assign(std::string(name), Extension{std::move(value), kind});
  return *this;
}

EventBuilder& EventBuilder::remove(std::string_view name) {
  if (name == "datacontenttype") ev_.datacontenttype_.reset();
  else if (name == "dataschema") ev_.dataschema_.reset();
  else if (name == "subject") ev_.subject_.reset();
  else if (name == "time") ev_.time_.reset();
  else if (auto it = ev_.extensions_.find(name); it != ev_.extensions_.end())
    ev_.extensions_.erase(it);
  return *this;
}

EventBuilder& EventBuilder::data(DataPtr bytes) {
  ev_.data_ = std::move(bytes);
  return *this;
}

EventBuilder& EventBuilder::data(Bytes bytes) {
  ev_.data_ = std::make_shared<const Bytes>(std::move(bytes));
  return *this;
}

Result<EventPtr> EventBuilder::build() && {
  if (!pending_errors_.empty())
    return fail(Errc::invalid_event, pending_errors_.front().second, pending_errors_.front().first);
  auto required = [](const std::string& v, const char* name) -> Result<void> {
    if (v.empty())
      return fail(Errc::invalid_event,
                  std::string("required attribute '") + name + "' is missing or empty", name);
    return {};
  };
  if (auto r = required(ev_.specversion_, "specversion"); !r) return std::unexpected(r.error());
  if (ev_.specversion_ != "1.0")
    return fail(Errc::invalid_event,
                "unsupported specversion '" + ev_.specversion_ + "': only '1.0' is accepted",
                "specversion");
  for (auto [v, name] : {std::pair{&ev_.id_, "id"}, {&ev_.source_, "source"}, {&ev_.type_, "type"}})
    if (auto r = required(*v, name); !r) return std::unexpected(r.error());

  Result<EventPtr> err;
  bool ok = true;
  ev_.for_each_attribute([&](std::string_view name, std::string_view value) {
    if (!ok) return;
    auto bad = [&](std::string why) {
      ok = false;
      err = fail(Errc::invalid_event,
                 "attribute '" + std::string(name) + "' is invalid: " + std::move(why),
                 std::string(name));
    };
    if (!valid_string_value(value))
      return bad("contains a control character or is not valid UTF-8");
    auto type = core_attribute_type(name);
    if (!type) return;
    if (value.empty()) return bad("must not be empty");
    if (*type == AttrType::uri_reference && !valid_uri_reference(value))
      return bad("must be a URI-reference");
    if (*type == AttrType::uri && !valid_uri(value)) return bad("must be an absolute URI");
    if (*type == AttrType::timestamp && !valid_timestamp(value))
      return bad("must be an RFC 3339 timestamp");
  });
  if (!ok) return err;
  for (const auto& [name, ext] : ev_.extensions_) {
    if (ext.kind == JsonKind::integer && !valid_integer(ext.value))
      return fail(Errc::invalid_event,
                  "attribute '" + name +
                      "' is invalid: must be an integer in the signed 32-bit range",
                  name);
    if (ext.kind == JsonKind::boolean && !valid_boolean(ext.value))
      return fail(Errc::invalid_event, "attribute '" + name + "' is invalid: not a boolean", name);
  }
  return std::make_shared<const Event>(std::move(ev_));
}

}  // namespace evmesh
