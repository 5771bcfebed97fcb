// Parsing, evaluation and serialisation of the Subscriptions API filter dialects.
//
// Parsing never throws: every nlohmann accessor used here is guarded by a type check
// first, and recursion is bounded by kMaxDepth before it descends. Error pointers are
// built from the caller's path plus dialect names and array indices, e.g.
//
//   {"any": [{"exact": {"Type": "x"}}]}   at "filters[1]"
//     -> pointer "filters[1].any[0].exact",
//        message "filters[1].any[0].exact: 'Type' is not a valid CloudEvents attribute
//                 name (lower-case letters a-z and digits only)"
//
// Problems with a leaf's value point one level deeper, at the attribute
// ("filters[0].exact.type"); attribute names are validated first, so that segment is
// always [a-z0-9]+ and never breaks the path syntax. User-supplied names that are not
// yet validated (an unknown dialect) are quoted in the message, truncated and with
// control characters replaced, but never put into the pointer.
#include "evmesh/filter/filter.h"

#include <nlohmann/json.hpp>

#include "glob.h"
#include "pattern.h"

namespace evmesh::filter {
namespace {

constexpr std::string_view kSupported = "exact, prefix, suffix, all, any, not, glob, sql, pattern";
constexpr std::size_t kMaxQuoted = 64;

// 'name' for a message: at most kMaxQuoted bytes (cut on a UTF-8 boundary), control
// characters replaced so a message stays one printable line.
std::string shown(std::string_view s) {
  std::string out = "'";
  std::size_t n = s.size();
  bool cut = false;
  if (n > kMaxQuoted) {
    n = kMaxQuoted;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    cut = true;
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);
  }
  if (cut) out += "...";
  out += '\'';
  return out;
}

std::string_view dialect_name(Dialect d) {
  switch (d) {
    case Dialect::exact: return "exact";
    case Dialect::prefix: return "prefix";
    case Dialect::suffix: return "suffix";
    case Dialect::all: return "all";
    case Dialect::any: return "any";
    case Dialect::not_: return "not";
    case Dialect::glob: return "glob";
    case Dialect::sql: return "sql";
    case Dialect::pattern: return "pattern";
  }
  return "?";
}

std::optional<Dialect> dialect_from(std::string_view name) {
  if (name == "exact") return Dialect::exact;
  if (name == "prefix") return Dialect::prefix;
  if (name == "suffix") return Dialect::suffix;
  if (name == "all") return Dialect::all;
  if (name == "any") return Dialect::any;
  if (name == "not") return Dialect::not_;
  if (name == "glob") return Dialect::glob;
  if (name == "sql") return Dialect::sql;
  if (name == "pattern") return Dialect::pattern;
  return std::nullopt;
}

std::unexpected<Error> invalid(const std::string& pointer, std::string_view what) {
  return fail(Errc::invalid_subscription, pointer + ": " + std::string(what), pointer);
}

std::string an(std::string_view json_type) {
  bool vowel = !json_type.empty() && std::string_view("aeiou").contains(json_type[0]);
  return (vowel ? "an " : "a ") + std::string(json_type);
}

Result<FilterPtr> parse_at(const nlohmann::json& expr, const std::string& path, int depth);

// exact / prefix / suffix: {"<attribute>": "<value>"}
Result<FilterPtr> parse_leaf(Dialect d, const nlohmann::json& body, const std::string& path) {
  const std::string name(dialect_name(d));
  if (!body.is_object())
    return invalid(path, "'" + name + "' takes an object with one attribute, such as {\"type\": "
                         "\"com.example.created\"}, but got " + an(body.type_name()));
  if (body.empty())
    return invalid(path, "'" + name + "' takes at least one attribute, got none");
  if (body.size() > 1) {
    // The spec's multi-attribute form: every attribute must match.
    std::vector<FilterPtr> leaves;
    for (auto it = body.cbegin(); it != body.cend(); ++it) {
      auto leaf = parse_leaf(d, nlohmann::json::object({{it.key(), it.value()}}), path);
      if (!leaf) return leaf;
      leaves.push_back(std::move(*leaf));
    }
    return std::make_shared<const Filter>(Filter{Dialect::all, {}, {}, std::move(leaves), d});
  }
  const auto it = body.cbegin();  // items() proxies die with the full expression
  const std::string& attribute = it.key();
  const nlohmann::json& value = it.value();
  if (attribute.empty()) return invalid(path, "the attribute name is empty");
  if (!valid_attribute_name(attribute))
    return invalid(path, shown(attribute) + " is not a valid CloudEvents attribute name "
                                             "(lower-case letters a-z and digits only)");
  const std::string value_path = path + "." + attribute;
  if (!value.is_string())
    return invalid(value_path, "the value must be a string, got " + an(value.type_name()));
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty()) return invalid(value_path, "the value must not be empty");
  if (d == Dialect::glob) {
    auto g = detail::Glob::compile(text, detail::Glob::Flavour::glob);
    if (!g) return invalid(value_path, g.error());
    return std::make_shared<const Filter>(
        Filter{d, attribute, text, {}, std::nullopt, std::make_shared<const detail::Glob>(std::move(*g))});
  }
  return std::make_shared<const Filter>(Filter{d, attribute, text, {}});
}

Result<FilterPtr> parse_sql(const nlohmann::json& body, const std::string& path) {
  if (!body.is_string())
    return invalid(path, "'sql' takes a CloudEvents SQL expression as a string, such as "
                         "\"type = 'com.example.created'\", but got " + an(body.type_name()));
  const auto& text = body.get_ref<const std::string&>();
  auto expr = cesql::compile(text);
  if (!expr) return invalid(path, expr.error().message);
  Filter f{Dialect::sql, {}, text, {}};
  f.sql_conjuncts = cesql::indexable_conjuncts(**expr);
  f.sql = std::move(*expr);
  return std::make_shared<const Filter>(std::move(f));
}

Result<FilterPtr> parse_pattern_filter(const nlohmann::json& body, const std::string& path) {
  auto p = parse_pattern(body, path);
  if (!p) return std::unexpected(std::move(p.error()));
  Filter f{Dialect::pattern};
  f.pattern = std::move(*p);
  return std::make_shared<const Filter>(std::move(f));
}

// all / any: [expr, ...]
Result<FilterPtr> parse_list(Dialect d, const nlohmann::json& body, const std::string& path,
                             int depth) {
  const std::string name(dialect_name(d));
  if (!body.is_array())
    return invalid(path, "'" + name + "' takes an array of filter expressions, got " +
                         an(body.type_name()));
  if (body.empty()) return invalid(path, "'" + name + "' needs at least one filter expression");
  std::vector<FilterPtr> children;
  children.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto child = parse_at(body[i], path + "[" + std::to_string(i) + "]", depth + 1);
    if (!child) return std::unexpected(std::move(child.error()));
    children.push_back(std::move(*child));
  }
  return std::make_shared<const Filter>(Filter{d, {}, {}, std::move(children)});
}

Result<FilterPtr> parse_at(const nlohmann::json& expr, const std::string& path, int depth) {
  if (depth > kMaxDepth)
    return invalid(path, "filters nest deeper than " + std::to_string(kMaxDepth) + " levels");
  if (!expr.is_object())
    return invalid(path, "a filter expression must be an object such as {\"exact\": {\"type\": "
                         "\"com.example.created\"}}, but got " + an(expr.type_name()));
  if (expr.size() != 1) {
    std::string what = "a filter expression names exactly one dialect (" +
                       std::string(kSupported) + "), got " + std::to_string(expr.size());
    if (!expr.empty()) {
      std::string names;
      std::size_t listed = 0;
      for (const auto& [key, _] : expr.items()) {
        if (listed++ == 3) { names += ", ..."; break; }
        names += (names.empty() ? "" : ", ") + shown(key);
      }
      what += ": " + names;
    }
    return invalid(path, what);
  }
  const auto it = expr.cbegin();
  const std::string& key = it.key();
  const nlohmann::json& body = it.value();
  auto dialect = dialect_from(key);
  if (!dialect) {
    return invalid(path, "unknown filter dialect " + shown(key) + " (supported: " +
                         std::string(kSupported) + ")");
  }
  const std::string sub_path = path + "." + key;
  switch (*dialect) {
    case Dialect::exact:
    case Dialect::prefix:
    case Dialect::suffix:
    case Dialect::glob:
      return parse_leaf(*dialect, body, sub_path);
    case Dialect::sql:
      return parse_sql(body, sub_path);
    case Dialect::pattern:
      return parse_pattern_filter(body, sub_path);
    case Dialect::all:
    case Dialect::any:
      return parse_list(*dialect, body, sub_path, depth);
    case Dialect::not_: {
      if (!body.is_object())
        return invalid(sub_path, "'not' takes one filter expression (an object), got " +
                                 an(body.type_name()));
      auto child = parse_at(body, sub_path, depth + 1);
      if (!child) return std::unexpected(std::move(child.error()));
      return negate(std::move(*child));
    }
  }
  return invalid(path, "unreachable dialect");
}

}  // namespace

Result<FilterPtr> parse_filter(const nlohmann::json& expr, std::string_view path) {
  return parse_at(expr, std::string(path), 1);
}

Result<std::vector<FilterPtr>> parse_filters(const nlohmann::json& array, std::string_view path) {
  const std::string base(path);
  if (!array.is_array())
    return invalid(base, "must be an array of filter expressions, got " + an(array.type_name()));
  std::vector<FilterPtr> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto f = parse_at(array[i], base + "[" + std::to_string(i) + "]", 1);
    if (!f) return std::unexpected(std::move(f.error()));
    out.push_back(std::move(*f));
  }
  return out;
}

// Hot path: called per event and candidate. Attribute dialects do not allocate
// (Event::attribute returns a view); data is parsed at most once per context.
// Recursion depth is bounded by parsing.
bool matches(const Filter& f, MatchContext& ctx) {
  const Event& ev = ctx.event();
  switch (f.dialect) {
    case Dialect::exact: {
      auto v = ev.attribute(f.attribute);
      return v && *v == f.value;
    }
    case Dialect::prefix: {
      auto v = ev.attribute(f.attribute);
      return v && v->starts_with(f.value);
    }
    case Dialect::suffix: {
      auto v = ev.attribute(f.attribute);
      return v && v->ends_with(f.value);
    }
    case Dialect::glob: {
      auto v = ev.attribute(f.attribute);
      return v && f.glob && f.glob->matches(*v);
    }
    case Dialect::sql:
      if (!f.sql) return false;
      return cesql::matches(*f.sql, ev, cesql::uses_data(*f.sql) ? ctx.json() : nullptr);
    case Dialect::pattern:
      return f.pattern && matches(*f.pattern, ctx);
    case Dialect::all:
      for (const auto& c : f.children)
        if (!matches(*c, ctx)) return false;
      return true;
    case Dialect::any:
      for (const auto& c : f.children)
        if (matches(*c, ctx)) return true;
      return false;
    case Dialect::not_:
      return f.children.size() == 1 && !matches(*f.children.front(), ctx);
  }
  return false;
}

bool matches_all(const std::vector<FilterPtr>& filters, MatchContext& ctx) {
  for (const auto& f : filters)
    if (!matches(*f, ctx)) return false;
  return true;
}

bool matches(const Filter& f, const Event& ev) {
  MatchContext ctx(ev);
  return matches(f, ctx);
}

bool matches_all(const std::vector<FilterPtr>& filters, const Event& ev) {
  MatchContext ctx(ev);
  return matches_all(filters, ctx);
}

nlohmann::json to_json(const Filter& f) {
  nlohmann::json body;
  switch (f.dialect) {
    case Dialect::exact:
    case Dialect::prefix:
    case Dialect::suffix:
    case Dialect::glob:
      body = nlohmann::json::object();
      body[f.attribute] = f.value;
      break;
    case Dialect::sql:
      body = f.value;
      break;
    case Dialect::pattern:
      body = f.pattern ? f.pattern->source : nlohmann::json::object();
      break;
    case Dialect::all:
      if (f.written_as) {
        body = nlohmann::json::object();
        for (const auto& leaf : f.children) body[leaf->attribute] = leaf->value;
        nlohmann::json out = nlohmann::json::object();
        out[std::string(dialect_name(*f.written_as))] = std::move(body);
        return out;
      }
      body = to_json(f.children);
      break;
    case Dialect::any:
      body = to_json(f.children);
      break;
    case Dialect::not_:
      body = f.children.empty() ? nlohmann::json::object() : to_json(*f.children.front());
      break;
  }
  nlohmann::json out = nlohmann::json::object();
  out[std::string(dialect_name(f.dialect))] = std::move(body);
  return out;
}

nlohmann::json to_json(const std::vector<FilterPtr>& filters) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : filters) out.push_back(to_json(*f));
  return out;
}

FilterPtr exact(std::string attribute, std::string value) {
  return std::make_shared<const Filter>(Filter{Dialect::exact, std::move(attribute), std::move(value), {}});
}
FilterPtr prefix(std::string attribute, std::string value) {
  return std::make_shared<const Filter>(Filter{Dialect::prefix, std::move(attribute), std::move(value), {}});
}
FilterPtr suffix(std::string attribute, std::string value) {
  return std::make_shared<const Filter>(Filter{Dialect::suffix, std::move(attribute), std::move(value), {}});
}
Result<FilterPtr> glob(std::string attribute, std::string pattern) {
  nlohmann::json body = nlohmann::json::object();
  body[attribute] = std::move(pattern);
  return parse_filter(nlohmann::json{{"glob", std::move(body)}}, "glob");
}
Result<FilterPtr> sql(std::string_view expression) {
  return parse_filter(nlohmann::json{{"sql", std::string(expression)}}, "sql");
}
Result<FilterPtr> pattern(const nlohmann::json& body) {
  return parse_filter(nlohmann::json{{"pattern", body}}, "pattern");
}
FilterPtr all(std::vector<FilterPtr> children) {
  return std::make_shared<const Filter>(Filter{Dialect::all, {}, {}, std::move(children)});
}
FilterPtr any(std::vector<FilterPtr> children) {
  return std::make_shared<const Filter>(Filter{Dialect::any, {}, {}, std::move(children)});
}
FilterPtr negate(FilterPtr child) {
  std::vector<FilterPtr> children;
  children.push_back(std::move(child));
  return std::make_shared<const Filter>(Filter{Dialect::not_, {}, {}, std::move(children)});
}

}  // namespace evmesh::filter
