// CESQL tokens. Keywords and function names are case-insensitive; attribute
// identifiers are folded to lower case (CloudEvents attribute names are lower case,
// and `EXISTS SOURCE` addresses `source`). Signs are always separate tokens: the
// parser folds `-` / `+` directly before an integer literal into the literal, so
// `-2147483648` is valid while `2147483648` is out of range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace evmesh::cesql::detail {

enum class Tok {
  end, lparen, rparen, comma,
  plus, minus, star, slash, percent,
  eq, ne, lt, le, gt, ge,
  kw_and, kw_or, kw_xor, kw_not, kw_like, kw_in, kw_exists, kw_true, kw_false,
  integer,   // unsigned digits; text holds them
  string,    // text holds the unescaped value
  word,      // identifier or function name; text as written
  data_path, // data.a.b; path holds the segments after "data"
};

struct Token {
  Tok kind = Tok::end;
  std::size_t pos = 0;  // 1-based byte offset in the expression
  std::string text;
  std::vector<std::string> path;
};

struct LexError {
  std::size_t pos;
  std::string message;
};

// Splits text into tokens (the last is Tok::end) or returns the first lexical error.
bool tokenize(std::string_view text, std::vector<Token>& out, LexError& err);

std::string_view describe(const Token& t);

}  // namespace evmesh::cesql::detail
