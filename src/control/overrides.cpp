#include "overrides.h"

#include <algorithm>

namespace evmesh::control::detail {
namespace {

constexpr std::string_view kEnvPrefix = "EVMESH_";

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

std::string joined(const std::vector<std::string_view>& items) {
  std::string out;
  for (auto item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

// How to set `key` the way `o` was given: "--set http.port" or "EVMESH_HTTP__PORT".
std::string example_flag(const Override& o, std::string_view key) {
  if (o.origin == "--set") return "--set " + std::string(key);
  std::string upper(kEnvPrefix);
  for (char c : replace_all(std::string(key), ".", "__"))
    upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return upper;
}

// Throws unless `key` is settable; returns its section.
const SectionKeys& check_key(const Override& o, const std::vector<SectionKeys>& schema) {
  auto bad = [&](const std::string& message) -> const SectionKeys& {
    throw ConfigError(o.origin, 0, o.key, message);
  };
  const auto dot = o.key.find('.');
  const std::string_view section_name = std::string_view(o.key).substr(0, dot);
  auto section = std::ranges::find(schema, section_name, &SectionKeys::name);
  if (section == schema.end()) {
    std::vector<std::string_view> names;
    for (const auto& s : schema) names.push_back(s.name);
    std::string hint;
    if (o.origin != "--set" && o.key.find('_') != std::string::npos && dot == std::string::npos)
      hint = "; separate the parts of a key with \"__\", e.g. EVMESH_HTTP__PORT";
    return bad("unknown key (sections: " + joined(names) + ")" + hint);
  }
  if (section->keys.empty()) {
    if (dot == std::string::npos) return *section;
    return bad("'" + std::string(section->name) + "' can only be replaced as a whole, e.g. " +
               example_flag(o, section->name) + "='[{id: a, sink: \"http://127.0.0.1:9000/\"}]'");
  }
  if (dot == std::string::npos) {
    return bad("'" + std::string(section->name) + "' is a section: set one of its keys (" +
               joined(section->keys) + "), e.g. " +
               example_flag(o, o.key + "." + std::string(section->keys.front())) + "=...");
  }
  const std::string_view field = std::string_view(o.key).substr(dot + 1);
  if (std::ranges::find(section->keys, field) == section->keys.end())
    return bad("unknown key (" + std::string(section->name) + " keys: " + joined(section->keys) +
               ")");
  return *section;
}

}  // namespace

std::vector<Override> collect_overrides(const Overrides& cli, char** environ_block,
                                        const std::vector<SectionKeys>& schema) {
  std::vector<Override> env;
  for (char** p = environ_block; p && *p; ++p) {
    std::string_view entry = *p;
    if (!entry.starts_with(kEnvPrefix)) continue;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = entry.substr(0, eq);
    const auto path = lower(name.substr(kEnvPrefix.size()));
    const bool names_section = std::ranges::any_of(schema, [&](const SectionKeys& s) {
      return path == s.name || path.starts_with(std::string(s.name) + "_");
    });
    if (path.find("__") == std::string::npos && !names_section) continue;
    env.push_back(
        {std::string(name), replace_all(path, "__", "."), std::string(entry.substr(eq + 1))});
  }
  std::ranges::sort(env, {}, &Override::origin);
  for (const auto& [key, value] : cli) env.push_back({"--set", key, value});
  return env;
}

void apply_overrides(YAML::Node& root, const std::vector<Override>& overrides,
                     const std::vector<SectionKeys>& schema, Reader& reader) {
  for (const auto& o : overrides) {
    const auto& section = check_key(o, schema);
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      throw ConfigError(o.origin, 0, o.key, "the value is not valid YAML: " + e.msg);
    }
    const std::string section_name(section.name);
    if (section.keys.empty()) {
      root[section_name] = value;
    } else {
      // An existing section that is not a mapping is the file's error, not ours.
      const YAML::Node& const_root = root;
      const YAML::Node existing = const_root[section_name];
      if (existing.IsDefined() && !existing.IsNull() && !existing.IsMap())
        reader.fail(
            existing, section_name,
            "must be a mapping, got " + std::string(existing.IsSequence() ? "a list" : "a scalar"));
      root[section_name][o.key.substr(section_name.size() + 1)] = value;
    }
    reader.set_origin(o.key, o.origin);
  }
}

}  // namespace evmesh::control::detail
