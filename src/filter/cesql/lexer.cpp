// String literals: '...' or "...". Inside, a backslash followed by the delimiter, or
// the delimiter doubled, stands for the delimiter; any other backslash is kept as is
// (so LIKE still sees `\%` and `\_`). Words are [A-Za-z0-9_]+; all digits is an
// integer literal. `data` directly followed by `.` starts a data path.
#include "lexer.h"

namespace evmesh::cesql::detail {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

Tok keyword(std::string_view word) {
  if (word.size() > 6) return Tok::word;
  std::string u = upper(word);
  if (u == "AND") return Tok::kw_and;
  if (u == "OR") return Tok::kw_or;
  if (u == "XOR") return Tok::kw_xor;
  if (u == "NOT") return Tok::kw_not;
  if (u == "LIKE") return Tok::kw_like;
  if (u == "IN") return Tok::kw_in;
  if (u == "EXISTS") return Tok::kw_exists;
  if (u == "TRUE") return Tok::kw_true;
  if (u == "FALSE") return Tok::kw_false;
  return Tok::word;
}

}  // namespace

bool tokenize(std::string_view text, std::vector<Token>& out, LexError& err) {
  std::size_t i = 0;
  auto push = [&](Tok k, std::size_t at, std::string t = {}) {
    out.push_back(Token{k, at + 1, std::move(t), {}});
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { ++i; continue; }
    std::size_t at = i;
    switch (c) {
      case '(': push(Tok::lparen, at); ++i; continue;
      case ')': push(Tok::rparen, at); ++i; continue;
      case ',': push(Tok::comma, at); ++i; continue;
      case '+': push(Tok::plus, at); ++i; continue;
      case '-': push(Tok::minus, at); ++i; continue;
      case '*': push(Tok::star, at); ++i; continue;
      case '/': push(Tok::slash, at); ++i; continue;
      case '%': push(Tok::percent, at); ++i; continue;
      case '=': push(Tok::eq, at); ++i; continue;
      case '!':
        if (i + 1 < text.size() && text[i + 1] == '=') { push(Tok::ne, at); i += 2; continue; }
        err = {at + 1, "unexpected character '!' (did you mean '!='?)"};
        return false;
      case '<':
        if (i + 1 < text.size() && text[i + 1] == '=') { push(Tok::le, at); i += 2; continue; }
        if (i + 1 < text.size() && text[i + 1] == '>') { push(Tok::ne, at); i += 2; continue; }
        push(Tok::lt, at); ++i; continue;
      case '>':
        if (i + 1 < text.size() && text[i + 1] == '=') { push(Tok::ge, at); i += 2; continue; }
        push(Tok::gt, at); ++i; continue;
      case '\'':
      case '"': {
        std::string value;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          char d = text[i];
          if (d == '\\' && i + 1 < text.size()) {
            if (text[i + 1] == c) value += c;
            else { value += d; value += text[i + 1]; }
            i += 2;
          } else if (d == c) {
            if (i + 1 < text.size() && text[i + 1] == c) { value += c; i += 2; continue; }
            ++i;
            closed = true;
            break;
          } else {
            value += d;
            ++i;
          }
        }
        if (!closed) {
          err = {at + 1, "unterminated string literal"};
          return false;
        }
        push(Tok::string, at, std::move(value));
        continue;
      }
      default: break;
    }
    if (!is_word_char(c)) {
      std::string shown = (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
                              ? "byte " + std::to_string(static_cast<unsigned char>(c))
                              : std::string("'") + c + "'";
      err = {at + 1, "unexpected character " + shown};
      return false;
    }
    while (i < text.size() && is_word_char(text[i])) ++i;
    std::string_view word = text.substr(at, i - at);
    if (all_digits(word)) { push(Tok::integer, at, std::string(word)); continue; }
    if (upper(word) == "DATA" && i < text.size() && text[i] == '.') {
      Token t{Tok::data_path, at + 1, std::string(word), {}};
      while (i < text.size() && text[i] == '.') {
        std::size_t seg = ++i;
        while (i < text.size() && is_word_char(text[i])) ++i;
        if (seg == i) {
          err = {seg + 1, "expected a field name after '.' in data path"};
          return false;
        }
        t.path.emplace_back(text.substr(seg, i - seg));
      }
      out.push_back(std::move(t));
      continue;
    }
    push(keyword(word), at, std::string(word));
  }
  out.push_back(Token{Tok::end, text.size() + 1, {}, {}});
  return true;
}

std::string_view describe(const Token& t) {
  switch (t.kind) {
    case Tok::end: return "end of expression";
    case Tok::lparen: return "'('";
    case Tok::rparen: return "')'";
    case Tok::comma: return "','";
    case Tok::plus: return "'+'";
    case Tok::minus: return "'-'";
    case Tok::star: return "'*'";
    case Tok::slash: return "'/'";
    case Tok::percent: return "'%'";
    case Tok::eq: return "'='";
    case Tok::ne: return "'!='";
    case Tok::lt: return "'<'";
    case Tok::le: return "'<='";
    case Tok::gt: return "'>'";
    case Tok::ge: return "'>='";
    case Tok::kw_and: return "AND";
    case Tok::kw_or: return "OR";
    case Tok::kw_xor: return "XOR";
    case Tok::kw_not: return "NOT";
    case Tok::kw_like: return "LIKE";
    case Tok::kw_in: return "IN";
    case Tok::kw_exists: return "EXISTS";
    case Tok::kw_true: return "TRUE";
    case Tok::kw_false: return "FALSE";
    case Tok::integer: return "integer literal";
    case Tok::string: return "string literal";
    case Tok::word: return "identifier";
    case Tok::data_path: return "data path";
  }
  return "token";
}

}  // namespace evmesh::cesql::detail
