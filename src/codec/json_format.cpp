// The CloudEvents JSON event format (json-format.md, version 1.0.2).
//
// Design notes
// - Attributes: a member's JSON type must fit the CloudEvents type system (2.2).
//   Core attributes are all JSON strings; extensions may also be booleans or
//   integers (32-bit; 5.0 is not an integer). JSON null means "unset" (2.2), so a
//   required attribute given as null is reported as missing.
// - Data (3.1): `data_base64` is binary; `data` is a JSON value when datacontenttype
//   is absent or JSON, otherwise a JSON string whose UTF-8 bytes are the data.
//   `data: null` is an explicit JSON null payload for JSON types (3.1.1) and means no
//   data for other types.
// - JSON data bytes are the value exactly as the sender wrote it (json_span.h), minus
//   surrounding whitespace: {"b": 1.10, "a": 1} stays so, and "x" is stored as "\"x\"",
//   quotes included. A DOM would reorder keys and round numbers. Only the overload
//   taking a parsed nlohmann::json, which has no text, stores the compact
//   serialisation.
// - Encoding is the inverse, picking data / data_base64 so that decoding gives back
//   the same bytes: JSON data that parses -> value (spliced in verbatim by
//   encode_json_event; parsed into the DOM by to_json); text/* and XML that is UTF-8
//   -> string; anything else -> data_base64.
// - nlohmann's parse throws on malformed input: that exception is caught here, at the
//   boundary, and becomes invalid_format with the position. Nesting is capped before
//   parsing because serialising a deeply nested value recurses.
#include "evmesh/codec/json_format.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "evmesh/codec/base64.h"
#include "json_span.h"
#include "media_type.h"

namespace evmesh::codec {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxJsonDepth = 128;

// Serialises without ever throwing: every string we hold is valid UTF-8 already, and
// `replace` turns a would-be exception into U+FFFD should that invariant ever break.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// True when arrays/objects nest deeper than `limit` (strings are skipped).
bool nested_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

Result<json> parse_json(std::string_view text) {
  if (nested_deeper_than(text, kMaxJsonDepth))
    return fail(Errc::invalid_format,
                "malformed JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // parse_error (syntax) or out_of_range (a number like 1e400); what() reads
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ...".
    std::string_view what = e.what();
    if (auto close = what.find("] "); close != std::string_view::npos) what.remove_prefix(close + 2);
    return fail(Errc::invalid_format, "malformed JSON: " + std::string(what));
  }
}

std::string kind_name(const json& v) {
  if (v.is_number_float()) return "a fractional number";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return std::string("a JSON ") + v.type_name();
}

std::unexpected<Error> bad_attribute(const std::string& name, const std::string& why) {
  return fail(Errc::invalid_event, "attribute '" + name + "' is invalid: " + why, name);
}

// Maps one JSON member to an attribute in its canonical string form (2.2).
Result<void> set_attribute(EventBuilder& b, const std::string& name, const json& v) {
  if (!valid_attribute_name(name))
    return fail(Errc::invalid_event,
                "attribute name '" + name + "' is invalid: names are lower-case letters and digits only",
                name);
  if (v.is_null()) return {};  // unset
  if (v.is_string()) {
    b.set(name, v.get<std::string>(), JsonKind::string);
    return {};
  }
  if (core_attribute_type(name))
    return bad_attribute(name, "must be a JSON string, not " + kind_name(v));
  if (v.is_boolean()) {
    b.set(name, v.get<bool>() ? "true" : "false", JsonKind::boolean);
    return {};
  }
  if (v.is_number_integer()) {  // signed or unsigned, both fit 64 bits here
    bool fits = v.is_number_unsigned()
                    ? v.get<std::uint64_t>() <= std::numeric_limits<std::int32_t>::max()
                    : v.get<std::int64_t>() >= std::numeric_limits<std::int32_t>::min() &&
                          v.get<std::int64_t>() <= std::numeric_limits<std::int32_t>::max();
    if (!fits) return bad_attribute(name, "integer " + dump(v) + " is outside the signed 32-bit range");
    b.set(name, dump(v), JsonKind::integer);
    return {};
  }
  if (v.is_number_float())  // also integers too large for 64 bits, which nlohmann reads as floats
    return bad_attribute(name, "a number must be an integer in the signed 32-bit range, got " + dump(v));
  return bad_attribute(name, "must be a string, boolean or integer, not " + kind_name(v));
}

// Reads `data` / `data_base64` (3.1.2) into the builder. `raw_data` is the text of
// the `data` value when the document's text is known.
Result<void> set_data(EventBuilder& b, const json& obj, std::optional<std::string_view> raw_data) {
  auto data = obj.find("data");
  auto data_base64 = obj.find("data_base64");
  if (data != obj.end() && data_base64 != obj.end())
    return fail(Errc::invalid_event,
                "members 'data' and 'data_base64' are mutually exclusive: an event carries one or "
                "the other",
                "data_base64");
  if (data_base64 != obj.end()) {
    if (data_base64->is_null()) return {};
    if (!data_base64->is_string())
      return fail(Errc::invalid_event,
                  "member 'data_base64' is invalid: must be a base64 string, not " +
                      kind_name(*data_base64),
                  "data_base64");
    auto bytes = base64_decode(data_base64->get_ref<const std::string&>());
    if (!bytes)
      return fail(Errc::invalid_event,
                  "member 'data_base64' is invalid: not RFC 4648 base64 (alphabet A-Z a-z 0-9 + /, "
                  "padded with '=' to a multiple of 4)",
                  "data_base64");
    b.data(std::move(*bytes));
    return {};
  }
  if (data == obj.end()) return {};
  auto ct = obj.find("datacontenttype");
  if (ct == obj.end() || !ct->is_string() || is_json_media_type(ct->get_ref<const std::string&>())) {
    b.data(raw_data ? std::string(*raw_data) : dump(*data));
    return {};
  }
  if (data->is_null()) return {};
  if (!data->is_string())
    return fail(Errc::invalid_event,
                "member 'data' is invalid: must be a string because datacontenttype '" +
                    ct->get<std::string>() + "' is not a JSON media type, not " + kind_name(*data),
                "data");
  b.data(data->get<std::string>());
  return {};
}

// JSON Pointer (RFC 6901) reference token escaping.
std::string pointer_token(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// True when the event's data goes into `data` as a JSON value (3.1.1).
bool data_is_json_value(const Event& ev) {
  const auto& ct = ev.datacontenttype();
  if (ct && !is_json_media_type(*ct)) return false;
  // accept() is a SAX pass (no DOM, no recursion); the depth cap keeps what we write
  // decodable by decode_json_event. accept() skips a leading BOM, which would be
  // invalid once spliced into a document, so such data goes as data_base64.
  const Bytes& bytes = *ev.data();
  return !bytes.starts_with("\xEF\xBB\xBF") && !nested_deeper_than(bytes, kMaxJsonDepth) &&
         json::accept(bytes);
}

// Data that is not a JSON value: text as a string, anything else as data_base64.
void put_other_data(json& j, const Event& ev) {
  const auto& ct = ev.datacontenttype();
  if (ct && is_text_media_type(*ct) && valid_utf8(*ev.data())) j["data"] = *ev.data();
  else j["data_base64"] = base64_encode(*ev.data());
}

// Every attribute, extensions with their JSON kind; no data.
json attributes_json(const Event& ev) {
  json j = json::object();
  ev.for_each_attribute([&](std::string_view name, std::string_view value) {
    j[std::string(name)] = value;  // extensions are rewritten below with their kind
  });
  for (const auto& [name, ext] : ev.extensions()) {
    if (ext.kind == JsonKind::boolean) {
      j[name] = ext.value == "true";
    } else if (ext.kind == JsonKind::integer) {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(ext.value.data(), ext.value.data() + ext.value.size(), n);
      if (ec == std::errc{} && end == ext.value.data() + ext.value.size()) j[name] = n;
    }
  }
  return j;
}

Result<EventPtr> decode_object(const json& object, std::optional<std::string_view> raw_data) {
  if (!object.is_object())
    return fail(Errc::invalid_format,
                "a CloudEvent in the JSON format must be a JSON object, not " + kind_name(object));
  EventBuilder b;
  for (const auto& [name, value] : object.items()) {
    if (name == "data" || name == "data_base64") continue;
    if (auto r = set_attribute(b, name, value); !r) return std::unexpected(std::move(r.error()));
  }
  if (auto r = set_data(b, object, raw_data); !r) return std::unexpected(std::move(r.error()));
  return std::move(b).build();
}

std::optional<std::string_view> raw_data_of(const json& object, std::string_view text) {
  if (!object.is_object() || !object.contains("data")) return std::nullopt;
  return json_member_span(text, "data");
}

}  // namespace

Result<EventPtr> decode_json_object(const nlohmann::json& object) {
  return decode_object(object, std::nullopt);
}

Result<EventPtr> decode_json_event(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed) return std::unexpected(std::move(parsed.error()));
  return decode_object(*parsed, raw_data_of(*parsed, text));
}

Result<std::vector<EventPtr>> decode_json_batch(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed) return std::unexpected(std::move(parsed.error()));
  if (!parsed->is_array())
    return fail(Errc::invalid_format,
                "a CloudEvents batch must be a JSON array, not " + kind_name(*parsed));
  std::vector<std::string_view> spans = json_element_spans(text);
  std::vector<EventPtr> events;
  events.reserve(parsed->size());
  for (std::size_t i = 0; i < parsed->size(); ++i) {
    const json& element = (*parsed)[i];
    auto raw_data = i < spans.size() ? raw_data_of(element, spans[i]) : std::nullopt;
    auto ev = decode_object(element, raw_data);
    if (!ev) {
      Error e = std::move(ev.error());
      std::string pointer = "/" + std::to_string(i);
      if (!e.pointer.empty()) pointer += "/" + pointer_token(e.pointer);
      return fail(e.code, "batch event " + std::to_string(i) + ": " + e.message, std::move(pointer));
    }
    events.push_back(std::move(*ev));
  }
  return events;
}

nlohmann::json to_json(const Event& ev) {
  json j = attributes_json(ev);
  if (!ev.has_data()) return j;
  if (data_is_json_value(ev)) j["data"] = json::parse(*ev.data(), nullptr, /*allow_exceptions=*/false);
  else put_other_data(j, ev);
  return j;
}

std::string encode_json_event(const Event& ev) {
  json j = attributes_json(ev);
  bool splice = ev.has_data() && data_is_json_value(ev);
  if (ev.has_data() && !splice) put_other_data(j, ev);
  std::string out = dump(j);  // "{...}", never empty: id etc. are required
  if (!splice) return out;
  // JSON data is spliced in as written, rather than re-serialised from a DOM.
  out.pop_back();
  out += ",\"data\":";
  out += *ev.data();
  out += '}';
  return out;
}

std::string encode_json_batch(const std::vector<EventPtr>& events) {
  std::string out = "[";
  for (const auto& ev : events) {
    if (out.size() > 1) out += ',';
    out += encode_json_event(*ev);
  }
  out += ']';
  return out;
}

}  // namespace evmesh::codec
