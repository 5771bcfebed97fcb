#include "config_reader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "evmesh/control/config.h"
#include "evmesh/control/subscription_spec.h"
#include "spec_detail.h"

namespace evmesh::control {
namespace {

using nlohmann::json;

// Guards against alias bombs ("a: &a [*b, *b, ...]") and runaway nesting: a config
// is written by people, so these are far beyond any real file.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 100'000;  // per value converted (one subscription)

struct SizeUnit {
  std::string_view suffix;
  std::uint64_t bytes;
};
constexpr SizeUnit kSizeUnits[] = {{"B", 1},
                                   {"KB", 1000},
                                   {"MB", 1000'000},
                                   {"GB", 1000'000'000},
                                   {"KiB", 1ULL << 10},
                                   {"MiB", 1ULL << 20},
                                   {"GiB", 1ULL << 30}};

bool all_digits(std::string_view s, std::string_view digits = "0123456789") {
  return !s.empty() && s.find_first_not_of(digits) == std::string_view::npos;
}

template <typename T>
std::optional<T> parse_number(std::string_view s, int base = 10) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// YAML 1.2 core schema float: [-+]? ( . [0-9]+ | [0-9]+ ( . [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool looks_like_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!all_digits(s.substr(i))) return false;
    i = s.size();
  }
  return i == s.size();
}

json resolve_plain(const std::string& s) {
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view v = s;
  const bool negative = v.starts_with('-');
  std::string_view digits = (negative || v.starts_with('+')) ? v.substr(1) : v;
  if (all_digits(digits)) {
    if (!negative) {
      if (auto n = parse_number<std::uint64_t>(digits)) return *n;
    } else if (auto n = parse_number<std::int64_t>(v)) {
      return *n;
    }
    return s;  // too large for 64 bits: leave it to the consumer to reject
  }
  if (v.starts_with("0x") && all_digits(v.substr(2), "0123456789abcdefABCDEF"))
    if (auto n = parse_number<std::uint64_t>(v.substr(2), 16)) return *n;
  if (v.starts_with("0o") && all_digits(v.substr(2), "01234567"))
    if (auto n = parse_number<std::uint64_t>(v.substr(2), 8)) return *n;
  if (looks_like_float(v)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return d;
  }
  return s;  // includes YAML 1.1 words like yes/no/on/off: strings in 1.2
}

int line_of(const YAML::Node& node) {
  try {
    if (!node.IsDefined()) return 0;
    return node.Mark().line + 1;  // null_mark is -1 -> 0 (unknown)
  } catch (const YAML::Exception&) {
    return 0;
  }
}

// "got ..." for a YAML node: typed scalars as written, strings quoted.
std::string got_yaml(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "got nothing";
  if (node.IsSequence()) return "got a list";
  if (node.IsMap()) return "got a mapping";
  auto v = detail::scalar_to_json(node);
  if (v.is_string()) return "got " + detail::quote(node.Scalar());
  return "got " + node.Scalar();
}

std::string list(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  auto n = parse_number<std::uint64_t>(s.substr(0, digits));
  if (!n) return std::nullopt;
  auto suffix = s.substr(digits);
  if (suffix.empty()) return *n;
  if (suffix.starts_with(' ')) suffix.remove_prefix(1);
  for (const auto& unit : kSizeUnits) {
    if (suffix != unit.suffix) continue;
    if (*n > UINT64_MAX / unit.bytes) return std::nullopt;
    return *n * unit.bytes;
  }
  return std::nullopt;
}

namespace detail {

json scalar_to_json(const YAML::Node& scalar) {
  const auto& tag = scalar.Tag();
  const auto& text = scalar.Scalar();
  // "?" = plain scalar; "!" = quoted or block; an explicit !!str keeps a string too.
  if (tag == "?") return resolve_plain(text);
  if (tag.starts_with("tag:yaml.org,2002:") && tag != "tag:yaml.org,2002:str")
    return resolve_plain(text);
  return text;
}

std::string join_key(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  if (name.starts_with('[')) return std::string(parent) + std::string(name);
  return std::string(parent) + "." + std::string(name);
}

std::string format_size(std::uint64_t bytes) {
  for (auto it = std::rbegin(kSizeUnits); it != std::rend(kSizeUnits); ++it) {
    if (it->bytes == 1000 || it->bytes == 1000'000 || it->bytes == 1000'000'000) continue;
    if (bytes != 0 && bytes % it->bytes == 0)
      return std::to_string(bytes / it->bytes) + std::string(it->suffix);
  }
  return std::to_string(bytes) + "B";
}

void Reader::set_origin(const std::string& key, std::string origin) {
  origins_[key] = std::move(origin);
}

const std::string* Reader::origin(const std::string& key) const {
  const std::string* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [prefix, origin] : origins_) {
    const bool covers = key == prefix || (key.starts_with(prefix) &&
                                          (key[prefix.size()] == '.' || key[prefix.size()] == '['));
    if (covers && prefix.size() >= best_len) {
      best = &origin;
      best_len = prefix.size();
    }
  }
  return best;
}

void Reader::fail(const YAML::Node& node, const std::string& key,
                  const std::string& message) const {
  if (const auto* from = origin(key)) throw ConfigError(*from, 0, key, message);
  throw ConfigError(file_, line_of(node), key, message);
}

std::uint64_t Reader::integer(const YAML::Node& node, const std::string& key, std::uint64_t lo,
                              std::uint64_t hi) const {
  if (node.IsScalar()) {
    auto v = scalar_to_json(node);
    if (v.is_number_unsigned() && v.get<std::uint64_t>() >= lo && v.get<std::uint64_t>() <= hi)
      return v.get<std::uint64_t>();
  }
  fail(node, key,
       "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi) + ", " +
           got_yaml(node));
}

std::uint64_t Reader::size(const YAML::Node& node, const std::string& key, std::uint64_t lo,
                           std::uint64_t hi) const {
  if (node.IsScalar()) {
    // Plain variables rather than an optional: GCC reads a disengaged optional's
    // payload speculatively, which valgrind reports as a use of uninitialised memory.
    auto v = scalar_to_json(node);
    std::uint64_t n = 0;
    bool parsed = false;
    if (v.is_number_unsigned()) {
      n = v.get<std::uint64_t>();
      parsed = true;
    } else if (auto bytes =
                   v.is_string() ? parse_size(v.get_ref<const std::string&>()) : std::nullopt) {
      n = *bytes;
      parsed = true;
    }
    if (parsed && n >= lo && n <= hi) return n;
  }
  fail(node, key,
       "must be a size between " + format_size(lo) + " and " + format_size(hi) +
           " (bytes, or a string like \"512KiB\", \"1MiB\"), " + got_yaml(node));
}

std::chrono::milliseconds Reader::duration(const YAML::Node& node, const std::string& key,
                                           bool allow_zero) const {
  if (node.IsScalar()) {
    auto d = parse_duration(scalar_to_json(node));
    if (d && (allow_zero || d->count() > 0)) return *d;
  }
  fail(node, key,
       std::string("must be a duration ") +
           (allow_zero ? "of at least zero" : "greater than zero") +
           " and at most 3650d (milliseconds, or a string like \"250ms\", \"10s\", \"5m\", "
           "\"2h\", \"1d\"), " +
           got_yaml(node));
}

std::string Reader::text(const YAML::Node& node, const std::string& key) const {
  if (node.IsScalar() && !node.Scalar().empty()) return node.Scalar();
  fail(node, key, "must be a non-empty string, " + got_yaml(node));
}

std::string Reader::one_of(const YAML::Node& node, const std::string& key,
                           std::initializer_list<std::string_view> choices) const {
  if (node.IsScalar())
    for (auto c : choices)
      if (node.Scalar() == c) return node.Scalar();
  fail(node, key, "must be one of " + list(choices) + ", " + got_yaml(node));
}

void Reader::for_each(const YAML::Node& map, const std::string& key, const EntryFn& fn) const {
  if (!map.IsDefined() || map.IsNull()) return;
  if (!map.IsMap()) fail(map, key, "must be a mapping, " + got_yaml(map));
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node name = it->first;  // copies: the iterator's pair is a temporary
    const YAML::Node value = it->second;
    if (!name.IsScalar()) fail(name, key, "keys must be plain strings, " + got_yaml(name));
    const auto child = join_key(key, name.Scalar());
    if (!seen.insert(name.Scalar()).second) fail(name, child, "duplicate key");
    fn(name.Scalar(), name, value);
  }
}

json Reader::to_json(const YAML::Node& node, const std::string& key) const {
  std::size_t budget = kMaxNodes;
  return to_json(node, key, 0, budget);
}

json Reader::to_json(const YAML::Node& node, const std::string& key, int depth,
                     std::size_t& budget) const {
  if (depth > kMaxDepth)
    fail(node, key, "nested more than " + std::to_string(kMaxDepth) + " levels deep");
  if (budget-- == 0) fail(node, key, "has more than 100000 nodes once aliases are expanded");
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (std::size_t i = 0; i < node.size(); ++i)
        out.push_back(to_json(node[i], key + "[" + std::to_string(i) + "]", depth + 1, budget));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for_each(node, key, [&](const std::string& name, const YAML::Node&, const YAML::Node& value) {
        out[name] = to_json(value, join_key(key, name), depth + 1, budget);
      });
      return out;
    }
    default:
      return nullptr;
  }
}

// Note: yaml-cpp's Node::operator= writes through to the referenced node; rebinding
// a handle takes reset().
YAML::Node node_at(const YAML::Node& node, std::string_view pointer) {
  YAML::Node current(node);
  while (!pointer.empty()) {
    if (pointer.starts_with('.')) pointer.remove_prefix(1);
    if (pointer.starts_with('[')) {
      auto close = pointer.find(']');
      auto index = parse_number<std::size_t>(
          pointer.substr(1, close == std::string_view::npos ? 0 : close - 1));
      if (!index || !current.IsSequence() || *index >= current.size()) return current;
      const YAML::Node& sequence = current;
      current.reset(sequence[*index]);
      pointer.remove_prefix(close + 1);
      continue;
    }
    if (!current.IsMap()) return current;
    // The longest key that is the whole rest or followed by '.' or '['.
    YAML::Node best_key, best_value;
    std::size_t best_len = 0;
    for (auto it = current.begin(); it != current.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      const auto& k = it->first.Scalar();
      if (k.size() <= best_len || !pointer.starts_with(k)) continue;
      if (pointer.size() != k.size() && pointer[k.size()] != '.' && pointer[k.size()] != '[')
        continue;
      best_key.reset(it->first);
      best_value.reset(it->second);
      best_len = k.size();
    }
    if (best_len == 0) return current;
    // A key without a value has a useless mark (the next line): report the key.
    current.reset(best_value.IsNull() ? best_key : best_value);
    pointer.remove_prefix(best_len);
  }
  return current;
}

}  // namespace detail
}  // namespace evmesh::control
