#include "codec.h"

#include <fmt/format.h>

#include "evmesh/codec/base64.h"

namespace evmesh::grpc_adapter {
namespace {

using AttrValue = io::cloudevents::v1::CloudEvent::CloudEventAttributeValue;

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

int num(std::string_view s, std::size_t at, std::size_t n) {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// Earliest and latest instants google.protobuf.Timestamp allows (years 1 to 9999).
constexpr std::int64_t kMinSeconds = -62135596800, kMaxSeconds = 253402300799;

bool textual(const std::optional<std::string>& content_type) {
  if (!content_type) return false;
  std::string t;
  for (char c : *content_type) {
    if (c == ';') break;
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return t.starts_with("text/") || t == "application/json" || t.ends_with("+json") ||
         t == "application/xml" || t.ends_with("+xml");
}

Result<std::pair<std::string, JsonKind>> value_text(const std::string& name, const AttrValue& v) {
  switch (v.attr_case()) {
    case AttrValue::kCeBoolean: return std::pair{std::string(v.ce_boolean() ? "true" : "false"), JsonKind::boolean};
    case AttrValue::kCeInteger: return std::pair{std::to_string(v.ce_integer()), JsonKind::integer};
    case AttrValue::kCeString: return std::pair{v.ce_string(), JsonKind::string};
    case AttrValue::kCeBytes: return std::pair{codec::base64_encode(v.ce_bytes()), JsonKind::string};
    case AttrValue::kCeUri: return std::pair{v.ce_uri(), JsonKind::string};
    case AttrValue::kCeUriRef: return std::pair{v.ce_uri_ref(), JsonKind::string};
    case AttrValue::kCeTimestamp: {
      const auto& ts = v.ce_timestamp();
      if (ts.seconds() < kMinSeconds || ts.seconds() > kMaxSeconds || ts.nanos() < 0 ||
          ts.nanos() > 999'999'999)
        return fail(Errc::invalid_event,
                    fmt::format("attribute '{}' is invalid: ce_timestamp out of range", name), name);
      return std::pair{format_rfc3339(ts.seconds(), ts.nanos()), JsonKind::string};
    }
    case AttrValue::ATTR_NOT_SET: break;
  }
  return fail(Errc::invalid_event,
              fmt::format("attribute '{}' is invalid: no value set in its oneof", name), name);
}

bool is_required(std::string_view name) {
  return name == "id" || name == "source" || name == "specversion" || name == "type";
}

}  // namespace

bool parse_rfc3339(std::string_view s, std::int64_t& seconds, std::int32_t& nanos) {
  if (!valid_timestamp(s)) return false;
  std::int64_t days = days_from_civil(num(s, 0, 4), static_cast<unsigned>(num(s, 5, 2)),
                                      static_cast<unsigned>(num(s, 8, 2)));
  int sec = num(s, 17, 2);
  if (sec == 60) sec = 59;  // a leap second: Timestamp has none (smeared)
  seconds = days * 86400 + num(s, 11, 2) * 3600 + num(s, 14, 2) * 60 + sec;
  nanos = 0;
  std::size_t i = 19;
  if (s[i] == '.') {
    ++i;
    int digits = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
      if (digits < 9) nanos = nanos * 10 + (s[i] - '0');
    for (; digits < 9; ++digits) nanos *= 10;
  }
  if (s[i] == '+' || s[i] == '-') {
    const int offset = num(s, i + 1, 2) * 3600 + num(s, i + 4, 2) * 60;
    seconds += s[i] == '+' ? -offset : offset;
  }
  return seconds >= kMinSeconds && seconds <= kMaxSeconds;
}

std::string format_rfc3339(std::int64_t seconds, std::int32_t nanos) {
  std::int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  auto out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rem / 3600, rem / 60 % 60,
                         rem % 60);
  if (nanos > 0) {
    auto frac = fmt::format("{:09}", nanos);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "Z";
}

Result<EventPtr> decode_event(const ProtoEvent& in) {
  EventBuilder b;
  b.set("id", in.id()).set("source", in.source()).set("specversion", in.spec_version())
      .set("type", in.type());
  for (const auto& [name, value] : in.attributes()) {
    if (is_required(name))
      return fail(Errc::invalid_event,
                  fmt::format("attribute '{}' is invalid: it is a required attribute and must be "
                              "set in its own field, not in `attributes`",
                              name),
                  name);
    auto text = value_text(name, value);
    if (!text) return std::unexpected(text.error());
    b.set(name, std::move(text->first), text->second);
  }
  switch (in.data_case()) {
    case ProtoEvent::kBinaryData: b.data(in.binary_data()); break;
    case ProtoEvent::kTextData: b.data(in.text_data()); break;
    case ProtoEvent::kProtoData:
      b.data(in.proto_data().value());
      if (!in.attributes().contains("datacontenttype")) b.set("datacontenttype", "application/protobuf");
      // A type URL is often not an absolute URI ("type.googleapis.com/x.Y"); only
      // one that is can be the dataschema.
      if (!in.attributes().contains("dataschema") && valid_uri(in.proto_data().type_url()))
        b.set("dataschema", in.proto_data().type_url());
      break;
    case ProtoEvent::DATA_NOT_SET: break;
  }
  return std::move(b).build();
}

void encode_event(const Event& in, ProtoEvent& out) {
  out.set_id(in.id());
  out.set_source(in.source());
  out.set_spec_version(in.specversion());
  out.set_type(in.type());
  auto& attrs = *out.mutable_attributes();
  if (in.datacontenttype()) attrs["datacontenttype"].set_ce_string(*in.datacontenttype());
  if (in.dataschema()) attrs["dataschema"].set_ce_uri(*in.dataschema());
  if (in.subject()) attrs["subject"].set_ce_string(*in.subject());
  if (in.time()) {
    std::int64_t seconds;
    std::int32_t nanos;
    if (parse_rfc3339(*in.time(), seconds, nanos)) {
      auto* ts = attrs["time"].mutable_ce_timestamp();
      ts->set_seconds(seconds);
      ts->set_nanos(nanos);
    } else {
      attrs["time"].set_ce_string(*in.time());  // outside Timestamp's range
    }
  }
  for (const auto& [name, ext] : in.extensions()) {
    auto& v = attrs[name];
    switch (ext.kind) {
      case JsonKind::boolean: v.set_ce_boolean(ext.value == "true"); break;
      case JsonKind::integer: v.set_ce_integer(static_cast<std::int32_t>(std::stol(ext.value))); break;
      case JsonKind::string: v.set_ce_string(ext.value); break;
    }
  }
  if (!in.has_data()) return;
  const auto& data = *in.data();
  if ((!in.datacontenttype() || textual(in.datacontenttype())) && valid_utf8(data))
    out.set_text_data(data);
  else
    out.set_binary_data(data);
}

}  // namespace evmesh::grpc_adapter
