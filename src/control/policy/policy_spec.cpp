// Parsing `policy:` (one object or a list) into control::Policy. The config converts
// its YAML to JSON first, so errors carry a pointer that it maps back to a line.
#include <algorithm>
#include <array>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "evmesh/control/condition.h"
#include "evmesh/control/policy.h"
#include "evmesh/control/subscription_spec.h"
#include "../spec_detail.h"

namespace evmesh::control {
namespace {

using nlohmann::json;
using detail::invalid;

struct ActionName {
  std::string_view name;
  ActionKind kind;
};
constexpr std::array<ActionName, 9> kActions = {{
    {"encrypt-fields", ActionKind::encrypt_fields},
    {"redact-fields", ActionKind::redact_fields},
    {"set-ttl", ActionKind::set_ttl},
    {"drop", ActionKind::drop},
    {"set-extension", ActionKind::set_extension},
    {"remove-extension", ActionKind::remove_extension},
    {"rename-type", ActionKind::rename_type},
    {"rename-source", ActionKind::rename_source},
    {"route", ActionKind::route},
}};

// The keys each action takes besides name, condition and action.
std::vector<std::string_view> arguments(ActionKind kind) {
  switch (kind) {
    case ActionKind::encrypt_fields: return {"fields"};
    case ActionKind::redact_fields: return {"fields", "replacement"};
    case ActionKind::set_ttl: return {"ttl-days"};
    case ActionKind::drop: return {};
    case ActionKind::set_extension: return {"extension", "value"};
    case ActionKind::remove_extension: return {"extension"};
    case ActionKind::rename_type:
    case ActionKind::rename_source: return {"to"};
    case ActionKind::route: return {"sink"};
  }
  return {};
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out.empty() ? "none" : out;
}

Result<std::string> text_member(const json& obj, std::string_view key, const std::string& at) {
  const auto& v = obj.at(std::string(key));
  if (!v.is_string() || v.get_ref<const std::string&>().empty())
    return invalid(at, "must be a non-empty string");
  return v.get<std::string>();
}

// A JSON data path: dot-separated field names, none empty.
bool valid_field_path(const std::string& path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  return path.find("..") == std::string::npos;
}

Result<void> read_arguments(const json& obj, const std::string& at, Rule& rule) {
  const auto key = [&](std::string_view k) { return at + "." + std::string(k); };
  for (auto name : arguments(rule.action))
    if (!obj.contains(std::string(name)) && name != "replacement")
      return invalid(key(name), "is required by action " + std::string(to_string(rule.action)));
  switch (rule.action) {
    case ActionKind::encrypt_fields:
    case ActionKind::redact_fields: {
      const auto& fields = obj.at("fields");
      if (!fields.is_array() || fields.empty())
        return invalid(key("fields"), "must be a non-empty list of JSON data field names");
      for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& f = fields[i];
        if (!f.is_string() || !valid_field_path(f.get<std::string>()))
          return invalid(key("fields") + "[" + std::to_string(i) + "]",
                         "must be a field name or dotted path (\"ssn\", \"card.number\")");
        rule.fields.push_back(f.get<std::string>());
      }
      if (obj.contains("replacement")) {
        if (!obj["replacement"].is_string())
          return invalid(key("replacement"), "must be a string");
        rule.replacement = obj["replacement"].get<std::string>();
      }
      return {};
    }
    case ActionKind::set_ttl: {
      const auto& days = obj.at("ttl-days");
      if (!days.is_number_integer() || days.get<long long>() < 1 || days.get<long long>() > 36500)
        return invalid(key("ttl-days"), "must be a whole number of days from 1 to 36500");
      rule.ttl_days = days.get<int>();
      return {};
    }
    case ActionKind::set_extension:
    case ActionKind::remove_extension: {
      auto name = text_member(obj, "extension", key("extension"));
      if (!name) return std::unexpected(name.error());
      if (!valid_attribute_name(*name) || core_attribute_type(*name))
        return invalid(key("extension"),
                       "must be an extension attribute name ([a-z0-9]+, not a core attribute), got " +
                           detail::quote(*name));
      rule.name_arg = *name;
      if (rule.action == ActionKind::set_extension) {
        const auto& v = obj.at("value");
        if (!v.is_string() && !v.is_number_integer() && !v.is_boolean())
          return invalid(key("value"), "must be a string, an integer or a boolean");
        rule.value = v.is_string() ? v.get<std::string>() : v.dump();
      }
      return {};
    }
    case ActionKind::rename_type:
    case ActionKind::rename_source: {
      auto to = text_member(obj, "to", key("to"));
      if (!to) return std::unexpected(to.error());
      if (rule.action == ActionKind::rename_source && !valid_uri_reference(*to))
        return invalid(key("to"), "must be a URI-reference (the source attribute's type)");
      rule.to = *to;
      return {};
    }
    case ActionKind::route: {
      auto sink = text_member(obj, "sink", key("sink"));
      if (!sink) return std::unexpected(sink.error());
      if (!valid_subscription_id(*sink))
        return invalid(key("sink"), "must be a subscription id, got " + detail::quote(*sink));
      rule.to = *sink;
      return {};
    }
    case ActionKind::drop: return {};
  }
  return {};
}

Result<Rule> parse_rule(const json& obj, const std::string& at) {
  if (!obj.is_object()) return invalid(at, "must be a rule object (name, condition, action, ...)");
  Rule rule;
  if (!obj.contains("name")) return invalid(at + ".name", "is required: every rule needs a name");
  auto name = text_member(obj, "name", at + ".name");
  if (!name) return std::unexpected(name.error());
  rule.name = *name;
  if (!obj.contains("action")) return invalid(at + ".action", "is required");
  const auto& action = obj.at("action");
  auto known = std::ranges::find_if(kActions, [&](const ActionName& a) {
    return action.is_string() && a.name == action.get_ref<const std::string&>();
  });
  if (known == kActions.end()) {
    std::string names;
    for (const auto& a : kActions) names += (names.empty() ? "" : ", ") + std::string(a.name);
    return invalid(at + ".action", "must be one of " + names + ", got " +
                                       (action.is_string() ? detail::quote(action.get<std::string>())
                                                           : action.dump()));
  }
  rule.action = known->kind;
  if (obj.contains("condition")) {
    const auto& cond = obj.at("condition");
    if (!cond.is_string()) return invalid(at + ".condition", "must be a string (a CESQL expression)");
    rule.condition = cond.get<std::string>();
    auto cesql = condition_to_cesql(rule.condition);
    if (!cesql) return invalid(at + ".condition", cesql.error().message);
    auto expr = cesql::compile(*cesql);
    if (!expr) return invalid(at + ".condition", expr.error().message + " (in the CESQL form: " + *cesql + ")");
    rule.cesql = std::move(*cesql);
    rule.expr = std::move(*expr);
  }
  const auto takes = arguments(rule.action);
  for (const auto& [k, v] : obj.items()) {
    if (k == "name" || k == "condition" || k == "action") continue;
    if (std::ranges::find(takes, k) == takes.end())
      return invalid(at + "." + k, "unknown key for action " + std::string(known->name) +
                                       " (it takes: " + join(takes) + ")");
  }
  if (auto ok = read_arguments(obj, at, rule); !ok) return std::unexpected(ok.error());
  return rule;
}

Result<Policy> parse_policy(const json& obj, const std::string& at) {
  const auto key = [&](std::string_view k) { return at.empty() ? std::string(k) : at + "." + std::string(k); };
  if (!obj.is_object()) return invalid(at, "must be a policy object with name and rules");
  for (const auto& [k, v] : obj.items())
    if (k != "name" && k != "rules") return invalid(key(k), "unknown key (policy keys: name, rules)");
  if (!obj.contains("name")) return invalid(key("name"), "is required");
  auto name = text_member(obj, "name", key("name"));
  if (!name) return std::unexpected(name.error());
  Policy policy{*name, {}};
  if (!obj.contains("rules") || !obj["rules"].is_array())
    return invalid(key("rules"), "must be a list of rules");
  std::set<std::string> names;
  const auto& rules = obj["rules"];
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto rule_at = key("rules") + "[" + std::to_string(i) + "]";
    auto rule = parse_rule(rules[i], rule_at);
    if (!rule) return std::unexpected(rule.error());
    if (!names.insert(rule->name).second)
      return invalid(rule_at + ".name", "duplicate rule name '" + rule->name + "' in policy '" +
                                            policy.name + "'");
    policy.rules.push_back(std::move(*rule));
  }
  return policy;
}

}  // namespace

std::string_view to_string(ActionKind kind) {
  for (const auto& a : kActions)
    if (a.kind == kind) return a.name;
  return "unknown";
}

Result<std::vector<Policy>> parse_policies(const json& value) {
  std::vector<Policy> out;
  if (value.is_null()) return out;
  if (value.is_object()) {
    auto p = parse_policy(value, "");
    if (!p) return std::unexpected(p.error());
    out.push_back(std::move(*p));
    return out;
  }
  if (!value.is_array()) return invalid("", "must be a policy object or a list of them");
  std::set<std::string> names;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto at = "[" + std::to_string(i) + "]";
    auto p = parse_policy(value[i], at);
    if (!p) return std::unexpected(p.error());
    if (!names.insert(p->name).second)
      return invalid(at + ".name", "duplicate policy name '" + p->name + "'");
    out.push_back(std::move(*p));
  }
  return out;
}

json to_json(const std::vector<Policy>& policies) {
  auto out = json::array();
  for (const auto& p : policies) {
    auto rules = json::array();
    for (const auto& r : p.rules) {
      json rule = {{"name", r.name}, {"action", to_string(r.action)}};
      if (!r.condition.empty()) rule["condition"] = r.condition, rule["cesql"] = r.cesql;
      if (!r.fields.empty()) rule["fields"] = r.fields;
      if (r.action == ActionKind::redact_fields) rule["replacement"] = r.replacement;
      if (r.action == ActionKind::set_ttl) rule["ttl-days"] = r.ttl_days;
      if (!r.name_arg.empty()) rule["extension"] = r.name_arg;
      if (r.action == ActionKind::set_extension) rule["value"] = r.value;
      if (r.action == ActionKind::route) rule["sink"] = r.to;
      else if (!r.to.empty()) rule["to"] = r.to;
      rules.push_back(std::move(rule));
    }
    out.push_back({{"name", p.name}, {"rules", std::move(rules)}});
  }
  return out;
}

}  // namespace evmesh::control
