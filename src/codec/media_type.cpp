#include "media_type.h"

#include "evmesh/codec/json_format.h"

namespace evmesh::codec {
namespace {

// Reads one parameter value at `pos` (token or quoted-string), advancing `pos` past it.
std::string read_param_value(std::string_view s, std::size_t& pos) {
  std::string out;
  if (pos < s.size() && s[pos] == '"') {
    for (++pos; pos < s.size() && s[pos] != '"'; ++pos) {
      if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
      out.push_back(s[pos]);
    }
    if (pos < s.size()) ++pos;  // closing quote
    return out;
  }
  while (pos < s.size() && s[pos] != ';') out.push_back(s[pos++]);
  return std::string(trim_ows(out));
}

}  // namespace

std::string_view MediaType::type() const {
  auto slash = essence.find('/');
  return slash == std::string::npos ? std::string_view{} : std::string_view(essence).substr(0, slash);
}

std::string_view MediaType::subtype() const {
  auto slash = essence.find('/');
  return slash == std::string::npos ? std::string_view{} : std::string_view(essence).substr(slash + 1);
}

MediaType parse_media_type(std::string_view value) {
  MediaType mt;
  std::size_t semi = value.find(';');
  mt.essence = to_lower_ascii(trim_ows(value.substr(0, semi)));
  std::size_t pos = semi;
  while (pos != std::string_view::npos && pos < value.size()) {
    ++pos;  // past ';'
    std::size_t eq = value.find_first_of("=;", pos);
    if (eq == std::string_view::npos || value[eq] == ';') {  // a parameter without '='
      pos = eq;
      continue;
    }
    std::string name = to_lower_ascii(trim_ows(value.substr(pos, eq - pos)));
    pos = eq + 1;
    while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t')) ++pos;
    std::string param = read_param_value(value, pos);
    if (name == "charset") mt.charset = to_lower_ascii(param);
    pos = value.find(';', pos);
  }
  return mt;
}

bool is_json_media_type(std::string_view content_type) {
  // json-format.md 3.1.1: the media type, stripped of parameters, is */json or */*+json.
  MediaType mt = parse_media_type(content_type);
  std::string_view sub = mt.subtype();
  return !mt.type().empty() && (sub == "json" || (sub.size() > 5 && sub.ends_with("+json")));
}

bool is_text_media_type(std::string_view content_type) {
  MediaType mt = parse_media_type(content_type);
  std::string_view sub = mt.subtype();
  return mt.type() == "text" || sub == "xml" || (sub.size() > 4 && sub.ends_with("+xml"));
}

}  // namespace evmesh::codec
