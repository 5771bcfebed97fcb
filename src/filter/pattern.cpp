// Parsing and evaluation of the `pattern` dialect (see pattern.h, docs/filters.md).
// Parsing never throws: every nlohmann accessor is guarded by a type check.
#include "pattern.h"

#include <algorithm>
#include <charconv>

namespace evmesh::filter {
namespace {

struct Budget {
  std::size_t values = 0;
  std::size_t or_branches = 0;
};

std::unexpected<Error> invalid(const std::string& pointer, std::string_view what) {
  return fail(Errc::invalid_subscription, pointer + ": " + std::string(what), pointer);
}

std::unexpected<Error> too_complex(const std::string& pointer, std::string_view what) {
  return invalid(pointer, "too complex: " + std::string(what));
}

std::string an(std::string_view json_type) {
  bool vowel = !json_type.empty() && std::string_view("aeiou").contains(json_type[0]);
  return (vowel ? "an " : "a ") + std::string(json_type);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<OwnedScalar> scalar_of(const nlohmann::json& v) {
  OwnedScalar s;
  if (v.is_string()) {
    s.type = Scalar::Type::string;
    s.string = v.get_ref<const std::string&>();
  } else if (v.is_number()) {
    s.type = Scalar::Type::number;
    s.number = v.get<double>();
    if (s.number == 0) s.number = 0;
  } else if (v.is_boolean()) {
    s.type = Scalar::Type::boolean;
    s.boolean = v.get<bool>();
  } else if (v.is_null()) {
    s.type = Scalar::Type::null;
  } else {
    return std::nullopt;
  }
  return s;
}

Result<void> parse_numeric(const nlohmann::json& body, const std::string& at, Matcher& m) {
  constexpr std::string_view kShape =
      "'numeric' takes [op, number] or [lower-op, number, upper-op, number], ops =, <, <=, >, >=";
  if (!body.is_array() || (body.size() != 2 && body.size() != 4)) return invalid(at, kShape);
  for (std::size_t i = 0; i < body.size(); i += 2) {
    if (!body[i].is_string() || !body[i + 1].is_number()) return invalid(at, kShape);
    const auto& op = body[i].get_ref<const std::string&>();
    const double n = body[i + 1].get<double>();
    const bool first = i == 0;
    if (op == "=" && body.size() == 2) {
      m.lower = m.upper = n;
      m.lower_inclusive = m.upper_inclusive = true;
    } else if ((op == ">" || op == ">=") && first) {
      m.lower = n;
      m.lower_inclusive = op == ">=";
    } else if ((op == "<" || op == "<=") && (body.size() == 2 || !first)) {
      m.upper = n;
      m.upper_inclusive = op == "<=";
    } else {
      return invalid(at, std::string(kShape) + "; a range is a lower bound (> or >=) then an upper "
                                               "bound (< or <=)");
    }
  }
  if (m.lower && m.upper && *m.lower > *m.upper)
    return invalid(at, "'numeric' range is empty: lower bound above upper bound");
  return {};
}

Result<Matcher> parse_matcher(const nlohmann::json& v, const std::string& at, Budget& budget) {
  ++budget.values;
  if (auto s = scalar_of(v)) return Matcher{Matcher::Kind::equals, std::move(*s)};
  if (!v.is_object() || v.size() != 1)
    return invalid(at, "a value is a string, number, boolean, null or an object with one matcher "
                       "(prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, "
                       "exists), got " + (v.is_object() ? "an object with " + std::to_string(v.size()) +
                                                               " members" : an(v.type_name())));
  const auto it = v.cbegin();
  const std::string& key = it.key();
  const nlohmann::json& body = it.value();
  const std::string sub = at + "." + key;
  Matcher m{Matcher::Kind::equals};
  auto text = [&](Matcher::Kind kind) -> Result<Matcher> {
    if (!body.is_string()) return invalid(sub, "'" + key + "' takes a string, got " + an(body.type_name()));
    m.kind = kind;
    m.literal.type = Scalar::Type::string;
    m.literal.string = body.get_ref<const std::string&>();
    return m;
  };
  if (key == "prefix") return text(Matcher::Kind::prefix);
  if (key == "suffix") return text(Matcher::Kind::suffix);
  if (key == "equals-ignore-case") return text(Matcher::Kind::equals_ignore_case);
  if (key == "wildcard") {
    auto r = text(Matcher::Kind::wildcard);
    if (!r) return r;
    auto g = detail::Glob::compile(r->literal.string, detail::Glob::Flavour::wildcard);
    if (!g) return invalid(sub, g.error());
    r->glob = std::move(*g);
    return r;
  }
  if (key == "exists") {
    if (!body.is_boolean()) return invalid(sub, "'exists' takes true or false, got " + an(body.type_name()));
    m.kind = Matcher::Kind::exists;
    m.exists = body.get<bool>();
    return m;
  }
  if (key == "numeric") {
    m.kind = Matcher::Kind::numeric;
    if (auto r = parse_numeric(body, sub, m); !r) return std::unexpected(r.error());
    return m;
  }
  if (key == "anything-but") {
    if (body.is_object()) {
      if (body.size() == 1 && (body.contains("prefix") || body.contains("suffix"))) {
        const auto inner = body.cbegin();
        if (!inner.value().is_string())
          return invalid(sub + "." + inner.key(), "takes a string, got " + an(inner.value().type_name()));
        m.kind = inner.key() == "prefix" ? Matcher::Kind::anything_but_prefix
                                         : Matcher::Kind::anything_but_suffix;
        m.literal.type = Scalar::Type::string;
        m.literal.string = inner.value().get_ref<const std::string&>();
        return m;
      }
      return invalid(sub, "'anything-but' takes a value, a list of values, {\"prefix\": ...} or "
                          "{\"suffix\": ...}");
    }
    m.kind = Matcher::Kind::anything_but;
    const bool list = body.is_array();
    if (list && body.empty()) return invalid(sub, "'anything-but' needs at least one value");
    for (std::size_t i = 0; i < (list ? body.size() : 1); ++i) {
      const nlohmann::json& item = list ? body[i] : body;
      if (!item.is_string() && !item.is_number())
        return invalid(list ? sub + "[" + std::to_string(i) + "]" : sub,
                       "'anything-but' values are strings or numbers, got " + an(item.type_name()));
      m.values.push_back(*scalar_of(item));
    }
    budget.values += m.values.size();
    return m;
  }
  return invalid(sub, "unknown matcher '" + key.substr(0, 64) + "' (supported: prefix, suffix, "
                      "equals-ignore-case, wildcard, anything-but, numeric, exists)");
}

Result<void> parse_rule(const nlohmann::json& list, bool attribute, std::string name,
                        const std::string& at, Budget& budget, PatternNode& node) {
  if (list.empty()) return invalid(at, "a value list needs at least one value or matcher");
  FieldRule rule{attribute, std::move(name), {}};
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto m = parse_matcher(list[i], at + "[" + std::to_string(i) + "]", budget);
    if (!m) return std::unexpected(m.error());
    rule.matchers.push_back(std::move(*m));
  }
  if (budget.values > kMaxPatternValues)
    return too_complex(at, "more than " + std::to_string(kMaxPatternValues) +
                               " values and matchers in one pattern");
  node.rules.push_back(std::move(rule));
  return {};
}

// `prefix`: the data path of this object (nullopt at the top level, where keys are
// attributes).
Result<void> parse_node(const nlohmann::json& obj, const std::optional<std::string>& prefix,
                        const std::string& at, int depth, Budget& budget, PatternNode& node) {
  if (depth > kMaxPatternDepth)
    return too_complex(at, "a pattern nests deeper than " + std::to_string(kMaxPatternDepth) + " levels");
  if (!obj.is_object()) return invalid(at, "must be an object, got " + an(obj.type_name()));
  if (obj.empty()) return invalid(at, "a pattern object needs at least one field");
  for (auto it = obj.cbegin(); it != obj.cend(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "$or") {
      const std::string or_at = at + ".$or";
      if (!v.is_array() || v.empty())
        return invalid(or_at, "'$or' takes a non-empty array of patterns");
      if (v.size() > kMaxOrBranches)
        return too_complex(or_at, std::to_string(v.size()) + " '$or' branches, at most " +
                                      std::to_string(kMaxOrBranches));
      budget.or_branches += v.size();
      if (budget.or_branches > kMaxTotalOrBranches)
        return too_complex(or_at, "more than " + std::to_string(kMaxTotalOrBranches) +
                                      " '$or' branches in one pattern");
      std::vector<PatternNode> branches(v.size());
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto r = parse_node(v[i], prefix, or_at + "[" + std::to_string(i) + "]", depth + 1,
                                budget, branches[i]);
            !r)
          return r;
      node.ors.push_back(std::move(branches));
      continue;
    }
    if (key.empty()) return invalid(at, "a field name is empty");
    if (!prefix && key != "data") {
      if (!valid_attribute_name(key))
        return invalid(at, "'" + key.substr(0, 64) + "' is not a valid CloudEvents attribute name "
                           "(lower-case letters a-z and digits only); data fields go under \"data\"");
      const std::string key_at = at + "." + key;
      if (!v.is_array())
        return invalid(key_at, "an attribute takes a list of values or matchers, such as "
                               "[\"com.example.created\"], got " + an(v.type_name()));
      if (auto r = parse_rule(v, true, key, key_at, budget, node); !r) return r;
      continue;
    }
    std::string name = !prefix ? std::string() : prefix->empty() ? key : *prefix + "." + key;
    const std::string key_at = at + "." + key;
    if (v.is_object()) {
      if (auto r = parse_node(v, name, key_at, depth + 1, budget, node); !r) return r;
    } else if (v.is_array()) {
      if (auto r = parse_rule(v, false, std::move(name), key_at, budget, node); !r) return r;
    } else {
      return invalid(key_at, "takes a list of values or matchers, or an object of nested fields, got " +
                                 an(v.type_name()));
    }
  }
  // Attributes first: they are cheap and may spare parsing the data.
  std::stable_partition(node.rules.begin(), node.rules.end(), [](const FieldRule& r) { return r.attribute; });
  return {};
}

bool matcher_holds(const Matcher& m, const Scalar& v) {
  const bool str = v.type == Scalar::Type::string;
  switch (m.kind) {
    case Matcher::Kind::equals: return v == m.literal.view();
    case Matcher::Kind::prefix: return str && v.string.starts_with(m.literal.string);
    case Matcher::Kind::suffix: return str && v.string.ends_with(m.literal.string);
    case Matcher::Kind::equals_ignore_case: return str && iequals(v.string, m.literal.string);
    case Matcher::Kind::wildcard: return str && m.glob->matches(v.string);
    case Matcher::Kind::anything_but:
      for (const OwnedScalar& s : m.values)
        if (v == s.view()) return false;
      return true;
    case Matcher::Kind::anything_but_prefix: return str && !v.string.starts_with(m.literal.string);
    case Matcher::Kind::anything_but_suffix: return str && !v.string.ends_with(m.literal.string);
    case Matcher::Kind::numeric:
      if (v.type != Scalar::Type::number) return false;
      if (m.lower && (m.lower_inclusive ? v.number < *m.lower : v.number <= *m.lower)) return false;
      if (m.upper && (m.upper_inclusive ? v.number > *m.upper : v.number >= *m.upper)) return false;
      return true;
    case Matcher::Kind::exists: return m.exists;
  }
  return false;
}

// An attribute as a JSON value: extensions keep the kind they arrived with.
Scalar attribute_scalar(const Event& ev, std::string_view name, std::string_view text) {
  Scalar s{Scalar::Type::string, false, 0, text};
  if (!core_attribute_type(name)) {
    auto it = ev.extensions().find(name);
    if (it != ev.extensions().end()) {
      if (it->second.kind == JsonKind::boolean) {
        s.type = Scalar::Type::boolean;
        s.boolean = text == "true";
      } else if (it->second.kind == JsonKind::integer) {
        std::int64_t n = 0;
        std::from_chars(text.data(), text.data() + text.size(), n);
        s.type = Scalar::Type::number;
        s.number = static_cast<double>(n);
      }
    }
  }
  return s;
}

bool rule_holds(const FieldRule& rule, MatchContext& ctx) {
  auto check = [&](const Scalar& v) {
    for (const Matcher& m : rule.matchers)
      if (matcher_holds(m, v)) return true;
    return false;
  };
  bool present = false;
  if (rule.attribute) {
    if (auto text = ctx.event().attribute(rule.name)) {
      present = true;
      if (check(attribute_scalar(ctx.event(), rule.name, *text))) return true;
    }
  } else {
    for (const DataField& f : ctx.fields_at(rule.name)) {
      present = true;
      if (check(f.value)) return true;
    }
  }
  if (present) return false;
  for (const Matcher& m : rule.matchers)
    if (m.kind == Matcher::Kind::exists && !m.exists) return true;
  return false;
}

bool node_holds(const PatternNode& node, MatchContext& ctx) {
  for (const FieldRule& r : node.rules)
    if (!rule_holds(r, ctx)) return false;
  for (const auto& branches : node.ors) {
    bool any = false;
    for (const PatternNode& b : branches)
      if (node_holds(b, ctx)) { any = true; break; }
    if (!any) return false;
  }
  return true;
}

using detail::Anchor;
using detail::AnchorSet;

std::optional<AnchorSet> rule_anchors(const FieldRule& rule, std::size_t cap) {
  if (rule.matchers.size() > cap) return std::nullopt;
  AnchorSet set;
  for (const Matcher& m : rule.matchers) {
    if (!rule.attribute) {
      if (m.kind != Matcher::Kind::equals) return std::nullopt;
      set.anchors.push_back({Anchor::Kind::data, rule.name, {}, m.literal.view()});
      continue;
    }
    const std::string_view text = m.literal.string;
    switch (m.kind) {
      case Matcher::Kind::equals:
        if (m.literal.type != Scalar::Type::string) return std::nullopt;
        set.anchors.push_back({Anchor::Kind::exact, rule.name, text, {}});
        break;
      case Matcher::Kind::prefix:
        set.anchors.push_back({Anchor::Kind::prefix, rule.name, text, {}});
        break;
      case Matcher::Kind::suffix:
        set.anchors.push_back({Anchor::Kind::suffix, rule.name, text, {}});
        break;
      case Matcher::Kind::wildcard: {
        const detail::Glob& g = *m.glob;
        if (g.is_literal())
          set.anchors.push_back({Anchor::Kind::exact, rule.name, g.literal_prefix(), {}});
        else if (!g.literal_prefix().empty() || g.literal_suffix().empty())
          set.anchors.push_back({Anchor::Kind::prefix, rule.name, g.literal_prefix(), {}});
        else
          set.anchors.push_back({Anchor::Kind::suffix, rule.name, g.literal_suffix(), {}});
        break;
      }
      case Matcher::Kind::exists:
        if (!m.exists) return std::nullopt;
        set.anchors.push_back({Anchor::Kind::prefix, rule.name, {}, {}});
        break;
      default:
        return std::nullopt;
    }
  }
  return set;
}

std::optional<AnchorSet> node_anchors(const PatternNode& node, std::size_t cap) {
  std::optional<AnchorSet> best;
  for (const FieldRule& r : node.rules) detail::keep_better(best, rule_anchors(r, cap));
  for (const auto& branches : node.ors) {
    AnchorSet set;
    bool ok = true;
    for (const PatternNode& b : branches)
      if (!(ok = detail::append_branch(set, node_anchors(b, cap), cap))) break;
    if (ok) detail::keep_better(best, std::move(set));
  }
  if (best) best->covers = false;  // typed values: always verify
  return best;
}

}  // namespace

Result<std::shared_ptr<const Pattern>> parse_pattern(const nlohmann::json& body, const std::string& path) {
  auto p = std::make_shared<Pattern>();
  Budget budget;
  if (auto r = parse_node(body, std::nullopt, path, 1, budget, p->root); !r)
    return std::unexpected(r.error());
  p->source = body;
  return p;
}

bool matches(const Pattern& p, MatchContext& ctx) { return node_holds(p.root, ctx); }

std::optional<detail::AnchorSet> pattern_anchors(const Pattern& p, std::size_t cap) {
  return node_anchors(p.root, cap);
}

}  // namespace evmesh::filter
