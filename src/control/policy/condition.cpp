// The shorthand operators of policy conditions (see condition.h): a scan that skips
// string literals and rewrites `<operand> <op> '<literal>'` in place.
#include "evmesh/control/condition.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace evmesh::control {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// End of the string literal opening at `at` (one past the closing quote), or npos.
// CESQL escapes a quote by doubling it or with a backslash.
std::size_t literal_end(std::string_view s, std::size_t at) {
  const char quote = s[at];
  for (std::size_t i = at + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The literal's value, as the CESQL lexer reads it: `\'` and `''` are a quote, any
// other backslash stays.
std::string literal_value(std::string_view lit) {
  std::string out;
  const char quote = lit.front();
  for (std::size_t i = 1; i + 1 < lit.size(); ++i) {
    if ((lit[i] == '\\' || lit[i] == quote) && lit[i + 1] == quote && i + 2 < lit.size()) ++i;
    out.push_back(lit[i]);
  }
  return out;
}

// A CESQL single-quoted LIKE pattern matching `value` literally, wrapped in `before`/`after`.
std::string like_pattern(std::string_view value, std::string_view before, std::string_view after) {
  std::string out = "'";
  out += before;
  for (char c : value) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out += after;
  return out + "'";
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

constexpr std::array<std::string_view, 3> kOperators = {"contains", "startswith", "endswith"};

}  // namespace

Result<std::string> condition_to_cesql(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\'' || s[i] == '"') {
      const auto end = literal_end(s, i);
      if (end == std::string_view::npos) break;  // the CESQL compiler reports it
      out.append(s.substr(i, end - i));
      i = end;
      continue;
    }
    if (!is_word_char(s[i]) || (i > 0 && is_word_char(s[i - 1]))) {
      out.push_back(s[i++]);
      continue;
    }
    // A word: maybe the operand of a shorthand operator.
    std::size_t word_end = i;
    while (word_end < s.size() && is_word_char(s[word_end])) ++word_end;
    const auto operand = s.substr(i, word_end - i);
    const auto op_at = skip_space(s, word_end);
    std::size_t op_end = op_at;
    while (op_end < s.size() && std::isalpha(static_cast<unsigned char>(s[op_end]))) ++op_end;
    const auto op = s.substr(op_at, op_end - op_at);
    const bool shorthand = op_at > word_end &&
                           std::ranges::any_of(kOperators, [&](auto k) { return iequals(op, k); });
    if (!shorthand) {
      out.append(operand);
      i = word_end;
      continue;
    }
    const auto lit_at = skip_space(s, op_end);
    const auto lit_end = lit_at < s.size() && (s[lit_at] == '\'' || s[lit_at] == '"')
                             ? literal_end(s, lit_at)
                             : std::string_view::npos;
    if (lit_end == std::string_view::npos)
      return fail(Errc::invalid_subscription,
                  "at position " + std::to_string(op_at + 1) + ": " + std::string(op) +
                      " must be followed by a string literal");
    const auto value = literal_value(s.substr(lit_at, lit_end - lit_at));
    const bool on_data = operand == "data" || operand.starts_with("data.");
    if (iequals(op, "contains") && on_data) {
      const bool field_name = !value.empty() && std::ranges::all_of(value, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
      if (!field_name)
        return fail(Errc::invalid_subscription,
                    "at position " + std::to_string(lit_at + 1) +
                        ": `data contains` takes a field name (letters, digits, _ and -), got '" +
                        value + "'");
      out += "EXISTS " + std::string(operand) + "." + value;
    } else {
      const bool starts = iequals(op, "startswith"), ends = iequals(op, "endswith");
      out += std::string(operand) + " LIKE " +
             like_pattern(value, starts ? "" : "%", ends ? "" : "%");
    }
    i = lit_end;
  }
  if (i < s.size()) out.append(s.substr(i));
  return out;
}

Result<cesql::ExpressionPtr> compile_condition(std::string_view condition) {
  auto text = condition_to_cesql(condition);
  if (!text) return std::unexpected(text.error());
  return cesql::compile(*text);
}

}  // namespace evmesh::control
