#include "json_span.h"

#include <string>

#include <nlohmann/json.hpp>

namespace evmesh::codec {
namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_ws(std::string_view s, std::size_t pos) {
  while (pos < s.size() && is_ws(s[pos])) ++pos;
  return pos;
}

// `pos` at the opening quote; returns the position after the closing one.
std::size_t skip_string(std::string_view s, std::size_t pos) {
  for (++pos; pos < s.size(); ++pos) {
    if (s[pos] == '\\') ++pos;
    else if (s[pos] == '"') return pos + 1;
  }
  return s.size();
}

// `pos` at the first character of a value; returns the position after it.
std::size_t skip_value(std::string_view s, std::size_t pos) {
  if (pos >= s.size()) return pos;
  if (s[pos] == '"') return skip_string(s, pos);
  if (s[pos] == '{' || s[pos] == '[') {
    std::size_t depth = 0;
    while (pos < s.size()) {
      char c = s[pos];
      if (c == '"') {
        pos = skip_string(s, pos);
        continue;
      }
      ++pos;
      if (c == '{' || c == '[') ++depth;
      else if ((c == '}' || c == ']') && --depth == 0) return pos;
    }
    return pos;
  }
  while (pos < s.size() && !is_ws(s[pos]) && s[pos] != ',' && s[pos] != '}' && s[pos] != ']') ++pos;
  return pos;  // number, true, false, null
}

std::size_t skip_bom(std::string_view s) { return s.starts_with("\xEF\xBB\xBF") ? 3 : 0; }

// A member name as the parser sees it: escapes such as "d\u0061ta" resolved.
bool key_equals(std::string_view quoted, std::string_view name) {
  std::string_view raw = quoted.substr(1, quoted.size() >= 2 ? quoted.size() - 2 : 0);
  if (raw.find('\\') == std::string_view::npos) return raw == name;
  auto key = nlohmann::json::parse(quoted, nullptr, /*allow_exceptions=*/false);
  return key.is_string() && key.get_ref<const std::string&>() == name;
}

}  // namespace

std::optional<std::string_view> json_member_span(std::string_view s, std::string_view name) {
  std::optional<std::string_view> found;
  std::size_t pos = skip_ws(s, skip_bom(s));
  if (pos >= s.size() || s[pos] != '{') return found;
  pos = skip_ws(s, pos + 1);
  while (pos < s.size() && s[pos] == '"') {
    std::size_t key_end = skip_string(s, pos);
    bool match = key_equals(s.substr(pos, key_end - pos), name);
    pos = skip_ws(s, key_end);
    if (pos >= s.size() || s[pos] != ':') break;
    std::size_t value_start = skip_ws(s, pos + 1);
    std::size_t value_end = skip_value(s, value_start);
    if (match) found = s.substr(value_start, value_end - value_start);
    pos = skip_ws(s, value_end);
    if (pos < s.size() && s[pos] == ',') pos = skip_ws(s, pos + 1);
  }
  return found;
}

std::vector<std::string_view> json_element_spans(std::string_view s) {
  std::vector<std::string_view> spans;
  std::size_t pos = skip_ws(s, skip_bom(s));
  if (pos >= s.size() || s[pos] != '[') return spans;
  pos = skip_ws(s, pos + 1);
  while (pos < s.size() && s[pos] != ']') {
    std::size_t end = skip_value(s, pos);
    if (end == pos) break;  // not a value: the text was not valid JSON
    spans.push_back(s.substr(pos, end - pos));
    pos = skip_ws(s, end);
    if (pos < s.size() && s[pos] == ',') pos = skip_ws(s, pos + 1);
  }
  return spans;
}

}  // namespace evmesh::codec
