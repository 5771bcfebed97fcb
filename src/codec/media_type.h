// Media type (RFC 2045/2046/9110) parsing for the codecs. Internal to evmesh_codec.
//
// Only what content negotiation needs: the "type/subtype" essence in lower case and
// the charset parameter. Examples:
//   "Application/CloudEvents+JSON; charset=UTF-8" -> essence "application/cloudevents+json",
//                                                    charset "utf-8"
//   "text/plain;charset=\"us-ascii\""              -> essence "text/plain", charset "us-ascii"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace evmesh::codec {

struct MediaType {
  std::string essence;                 // lower-case "type/subtype", trimmed; may be malformed
  std::optional<std::string> charset;  // lower-case, unquoted
  std::string_view type() const;       // before '/', empty when there is no '/'
  std::string_view subtype() const;    // after '/', empty when there is no '/'
};

MediaType parse_media_type(std::string_view value);

// Text whose bytes the JSON format may carry as a JSON string: text/*, XML types.
bool is_text_media_type(std::string_view content_type);

// Inline: binary-mode ingest calls these for every header of every request.
inline char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

inline bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

// HTTP optional whitespace: SP / HTAB.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace evmesh::codec
