// The CloudEvents HTTP protocol binding (http-protocol-binding.md, version 1.0.2).
//
// Design notes
// - Mode (3): application/cloudevents-batch+json is batched, application/cloudevents+json
//   structured (parameters ignored, but a charset other than UTF-8 is refused: JSON
//   text is UTF-8, RFC 8259 8.1). Any other application/cloudevents* format is refused
//   rather than guessed at. Everything else is binary when ce-specversion is present.
// - Binary headers (3.1.3): names are case-insensitive ("CE-Id" is `id`); each value is
//   trimmed of optional whitespace, unquoted (RFC 7230 3.2.6, for older senders), then
//   percent-decoded once, and must then be UTF-8 ("%C0%A0" is rejected). A header may
//   appear once. ce-datacontenttype is not allowed: Content-Type carries it (3.1.1).
// - Binary data: the body is moved into the event. An empty body without Content-Type
//   means no data; with a Content-Type it is data of zero length.
// - Errors from EventBuilder name an attribute; in binary mode they are reworded to
//   name the header the sender wrote: "header 'ce-time' is invalid: ...".
// - Encoding binary: each attribute but datacontenttype becomes ce-<name>, percent-
//   encoded; datacontenttype becomes Content-Type. An event with data but without
//   datacontenttype gets Content-Type application/json when its data is JSON: that is
//   the type the JSON format implies, which a translation SHOULD make explicit (core
//   spec, datacontenttype). An event whose datacontenttype is itself a CloudEvents
//   format (application/cloudevents*: an event carrying an event) is sent structured
//   instead: as a binary Content-Type, a receiver would read it as structured mode.
#include "evmesh/codec/http_binding.h"

#include <algorithm>
#include <array>
#include <expected>

#include <boost/container/small_vector.hpp>

#include <nlohmann/json.hpp>

#include "evmesh/codec/json_format.h"
#include "media_type.h"

namespace evmesh::codec {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kHeaderPrefix = "ce-";
constexpr std::string_view kHex = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 7230 3.2.6: quoted-strings lose their quotes and backslash escapes.
std::expected<std::string, std::string> unquote(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool quoted = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (quoted && c == '\\') {
      if (++i == v.size()) return std::unexpected("a backslash ends the double-quoted string");
      out += v[i];
    } else {
      out += c;
    }
  }
  if (quoted) return std::unexpected("unterminated double-quoted string");
  return out;
}

std::expected<std::string, std::string> percent_decode(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    int hi = i + 2 < v.size() ? hex_value(v[i + 1]) : -1;
    int lo = i + 2 < v.size() ? hex_value(v[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return std::unexpected("malformed percent-encoding at offset " + std::to_string(i) +
                             ": '%' must be followed by two hex digits");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// The binding's decoding steps for a ce-* header value (3.1.3.2), with the reason
// when the value is malformed.
std::expected<std::string, std::string> decode_header_value(std::string_view raw) {
  const auto trimmed = trim_ows(raw);
  // Nearly every value is ASCII without a quote or an escape: one pass and one copy,
  // not a character-by-character rebuild (the hot spot of binary-mode ingest).
  static constexpr auto kPlain = [] {
    std::array<bool, 256> plain{};
    for (int c = 0; c < 0x80; ++c) plain[c] = c != '"' && c != '%';
    return plain;
  }();
  const bool plain_ascii =
      std::all_of(trimmed.begin(), trimmed.end(), [](char c) { return kPlain[static_cast<unsigned char>(c)]; });
  if (plain_ascii) return std::string(trimmed);
  if (trimmed.find_first_of("\"%") == std::string_view::npos) {
    if (!valid_utf8(trimmed)) return std::unexpected("percent-decoded value is not valid UTF-8");
    return std::string(trimmed);
  }
  auto unquoted = unquote(trimmed);
  if (!unquoted) return unquoted;
  auto decoded = percent_decode(*unquoted);
  if (decoded && !valid_utf8(*decoded))
    return std::unexpected("percent-decoded value is not valid UTF-8");
  return decoded;
}

std::string header_for(std::string_view attribute) {
  if (attribute == "datacontenttype") return "Content-Type";
  return std::string(kHeaderPrefix) + std::string(attribute);
}

// EventBuilder speaks of attributes; a binary-mode sender wrote headers.
Error name_header(Error e) {
  if (e.pointer.empty()) return e;
  std::string header = "header '" + header_for(e.pointer) + "'";
  std::string attribute = "attribute '" + e.pointer + "'";
  if (auto pos = e.message.find(attribute); pos != std::string::npos)
    e.message.replace(pos, attribute.size(), header);
  else
    e.message = header + ": " + e.message;
  return e;
}

std::unexpected<Error> bad_header(const std::string& attribute, const std::string& why) {
  return fail(Errc::invalid_event, "header '" + header_for(attribute) + "' is invalid: " + why,
              attribute);
}

// Moves one ce-* header into the builder; `seen` (the names of the ce-* headers
// before it, as written) catches repeats.
template <class Seen>
Result<void> set_from_header(EventBuilder& b, std::string_view name, std::string_view value, Seen& seen) {
  std::string attribute = to_lower_ascii(name.substr(kHeaderPrefix.size()));
  if (!valid_attribute_name(attribute) || attribute == "data")
    return bad_header(attribute,
                      "attribute names are lower-case letters and digits only, and 'data' is reserved");
  if (attribute == "datacontenttype")  // 3.1.1
    return fail(Errc::invalid_event,
                "header 'ce-datacontenttype' is not allowed in binary mode: the data content type "
                "travels in Content-Type",
                attribute);
  if (std::any_of(seen.begin(), seen.end(), [&](std::string_view s) { return iequals_ascii(s, name); }))
    return bad_header(attribute, "appears more than once");
  seen.push_back(name);
  auto decoded = decode_header_value(value);
  if (!decoded) return bad_header(attribute, decoded.error());
  b.set(attribute, std::move(*decoded));
  return {};
}

bool has_ce_prefix(std::string_view name) {
  return name.size() >= kHeaderPrefix.size() &&
         iequals_ascii(name.substr(0, kHeaderPrefix.size()), kHeaderPrefix);
}

template <class HeaderList>
Result<EventPtr> decode_binary(std::string_view content_type, const HeaderList& headers,
                               std::string body) {
  EventBuilder b;
  // Views of the caller's header names: they outlive the decoding.
  boost::container::small_vector<std::string_view, 16> seen;
  for (const auto& [name, value] : headers) {
    if (!has_ce_prefix(name)) continue;
    if (auto r = set_from_header(b, name, value, seen); !r) return std::unexpected(std::move(r.error()));
  }
  std::string_view ct = trim_ows(content_type);
  if (!ct.empty()) b.set("datacontenttype", std::string(ct));
  if (!ct.empty() || !body.empty()) b.data(std::move(body));
  auto ev = std::move(b).build();
  if (!ev) return std::unexpected(name_header(std::move(ev.error())));
  return ev;
}

Result<std::vector<EventPtr>> single_event(Result<EventPtr> ev) {
  if (!ev) return std::unexpected(std::move(ev.error()));
  return std::vector<EventPtr>{std::move(*ev)};
}

// 3.1.3.2: what goes into a header value as it is; the rest is percent-encoded.
constexpr auto kPlainHeaderChar = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x21; c < 0x7F; ++c) plain[c] = c != '"' && c != '%';
  return plain;
}();

bool plain_header_char(unsigned char c) { return kPlainHeaderChar[c]; }

// The binary mode's Content-Type: datacontenttype, else application/json for JSON
// data, else none (empty).
std::string_view binary_content_type(const Event& ev) {
  if (ev.datacontenttype()) return *ev.datacontenttype();
  if (ev.has_data() && nlohmann::json::accept(*ev.data())) return "application/json";  // SAX based: no recursion
  return {};
}

// Whether a media type may be a CloudEvents format: the same as
// parse_media_type(v).essence.starts_with("application/cloudevents"), without
// building the essence (most content types are not).
bool cloudevents_media_type(std::string_view value) {
  constexpr std::string_view kPrefix = "application/cloudevents";
  const auto v = trim_ows(value);
  return v.size() >= kPrefix.size() && iequals_ascii(v.substr(0, kPrefix.size()), kPrefix);
}

// An event whose datacontenttype is a CloudEvents format travels structured.
bool must_be_structured(const Event& ev) {
  return ev.datacontenttype() && cloudevents_media_type(*ev.datacontenttype());
}

HttpMessage encode_binary(const Event& ev) {
  HttpMessage m;
  ev.for_each_attribute([&](std::string_view name, std::string_view value) {
    if (name == "datacontenttype") return;
    m.headers.emplace_back(std::string(kHeaderPrefix) + std::string(name), percent_encode_header(value));
  });
  m.content_type = binary_content_type(ev);
  if (ev.has_data()) m.body = *ev.data();  // HttpMessage owns its body: one copy, here
  return m;
}

std::unexpected<Error> not_cloudevent(std::string_view content_type) {
  return fail(Errc::unsupported_media,
              "not a CloudEvent: Content-Type '" + std::string(content_type) +
                  "' is not a CloudEvents format and there is no ce-specversion header");
}

template <class HeaderList>
Result<HttpMode> detect_mode_of(std::string_view content_type, const HeaderList& headers) {
  if (!cloudevents_media_type(content_type)) {
    for (const auto& [name, value] : headers)
      if (iequals_ascii(name, "ce-specversion")) return HttpMode::binary;
    return not_cloudevent(content_type);
  }
  MediaType mt = parse_media_type(content_type);
  bool batch = mt.essence == kBatchJson;
  if (batch || mt.essence == kStructuredJson) {
    if (mt.charset && *mt.charset != "utf-8" && *mt.charset != "utf8")
      return fail(Errc::unsupported_media,
                  "Content-Type '" + std::string(content_type) + "' is not supported: charset '" +
                      *mt.charset + "' given, but the JSON format is UTF-8");
    return batch ? HttpMode::batch : HttpMode::structured;
  }
  if (mt.essence.starts_with("application/cloudevents"))
    return fail(Errc::unsupported_media,
                "Content-Type '" + std::string(content_type) +
                    "' is a CloudEvents format this broker does not support: use " +
                    std::string(kStructuredJson) + ", " + std::string(kBatchJson) +
                    " or binary mode");
  for (const auto& [name, value] : headers)
    if (iequals_ascii(name, "ce-specversion")) return HttpMode::binary;
  return not_cloudevent(content_type);
}

template <class HeaderList>
Result<std::vector<EventPtr>> decode_http_of(std::string_view content_type, const HeaderList& headers,
                                             std::string body) {
  auto mode = detect_mode_of(content_type, headers);
  if (!mode) return std::unexpected(std::move(mode.error()));
  switch (*mode) {
    case HttpMode::binary: return single_event(decode_binary(content_type, headers, std::move(body)));
    case HttpMode::structured: return single_event(decode_json_event(std::string_view(body)));
    case HttpMode::batch: return decode_json_batch(body);
  }
  return fail(Errc::internal, "unknown HTTP mode");
}

}  // namespace

Result<HttpMode> detect_mode(std::string_view content_type, const Headers& headers) {
  return detect_mode_of(content_type, headers);
}

bool is_batch_content_type(std::string_view content_type) {
  if (!cloudevents_media_type(content_type)) return false;
  const auto mode = detect_mode_of(content_type, std::span<const HeaderView>());
  return mode && *mode == HttpMode::batch;
}

Result<HttpMode> detect_mode_fields(std::string_view content_type, std::span<const HeaderView> headers) {
  return detect_mode_of(content_type, headers);
}

Result<std::vector<EventPtr>> decode_http(std::string_view content_type, const Headers& headers,
                                          std::string body) {
  return decode_http_of(content_type, headers, std::move(body));
}

Result<std::vector<EventPtr>> decode_http_fields(std::string_view content_type,
                                                 std::span<const HeaderView> headers, std::string body) {
  return decode_http_of(content_type, headers, std::move(body));
}

HttpMessage encode_http(const Event& ev, HttpMode mode) {
  if (mode == HttpMode::binary && must_be_structured(ev)) mode = HttpMode::structured;
  switch (mode) {
    case HttpMode::binary: return encode_binary(ev);
    case HttpMode::structured: return {{}, std::string(kStructuredJson), encode_json_event(ev)};
    case HttpMode::batch: {
      // A batch of one: EventPtr is what encode_json_batch takes, so alias without owning.
      EventPtr alias(std::shared_ptr<const Event>(), &ev);
      return {{}, std::string(kBatchJson), encode_json_batch({alias})};
    }
  }
  return {};
}

bool append_binary_fields(const Event& ev, std::string& out) {
  if (must_be_structured(ev)) return false;
  ev.for_each_attribute([&](std::string_view name, std::string_view value) {
    if (name == "datacontenttype") return;
    out.append(kHeaderPrefix).append(name).append(": ");
    append_percent_encoded(out, value);
    out.append("\r\n");
  });
  if (const auto ct = binary_content_type(ev); !ct.empty()) out.append("Content-Type: ").append(ct).append("\r\n");
  return true;
}

void append_percent_encoded(std::string& out, std::string_view value) {
  // 3.1.3.2: space, '"', '%' and anything outside printable ASCII, byte by byte of the
  // UTF-8 form, upper-case hex. Most values need none of it: one append.
  if (std::all_of(value.begin(), value.end(), plain_header_char)) {
    out.append(value);
    return;
  }
  for (unsigned char c : value) {
    if (plain_header_char(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
}

std::string percent_encode_header(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  append_percent_encoded(out, value);
  return out;
}

std::optional<std::string> percent_decode_header(std::string_view value) {
  auto decoded = decode_header_value(value);
  if (!decoded) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace evmesh::codec
