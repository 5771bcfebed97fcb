// Structural compatibility checks (rules in schema_compat.h). `reader` must accept
// everything `writer` accepts; each helper adds a reason when it might not.
#include "evmesh/control/schema_compat.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace evmesh::control {
namespace {

using nlohmann::json;

std::set<std::string> string_set(const json& schema, const char* key) {
  std::set<std::string> out;
  auto it = schema.find(key);
  if (it == schema.end()) return out;
  if (it->is_string()) out.insert(it->get<std::string>());
  if (it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.insert(v.get<std::string>());
  return out;
}

bool declares_type(const json& schema) { return schema.is_object() && schema.contains("type"); }

bool type_allowed(const std::set<std::string>& reader, const std::string& t) {
  return reader.contains(t) || (t == "integer" && reader.contains("number"));
}

bool closed(const json& schema) {
  auto it = schema.find("additionalProperties");
  return it != schema.end() && it->is_boolean() && !it->get<bool>();
}

const json& properties(const json& schema) {
  static const json kEmpty = json::object();
  auto it = schema.find("properties");
  return it != schema.end() && it->is_object() ? *it : kEmpty;
}

std::string subject(const std::string& at) {
  return at.empty() ? std::string("the data") : "property '" + at + "'";
}

void check(const json& reader, const json& writer, const std::string& at,
           std::vector<std::string>& out, int depth) {
  if (!reader.is_object() || !writer.is_object() || depth > 32) return;
  const auto where = [&](const std::string& name) { return at.empty() ? name : at + "." + name; };
  if (declares_type(reader)) {
    const auto allowed = string_set(reader, "type");
    if (!declares_type(writer))
      out.push_back(subject(at) + " may be of any type under the writer's schema; the reader's restricts it");
    else
      for (const auto& t : string_set(writer, "type"))
        if (!type_allowed(allowed, t))
          out.push_back(subject(at) + " may be " + t +
                        " under the writer's schema, which the reader's does not allow");
  }
  const auto writer_required = string_set(writer, "required");
  for (const auto& name : string_set(reader, "required"))
    if (!writer_required.contains(name))
      out.push_back("property '" + where(name) +
                    "' is required by the reader's schema but not by the writer's");
  const auto& rprops = properties(reader);
  const auto& wprops = properties(writer);
  if (closed(reader)) {
    if (!closed(writer))
      out.push_back(subject(at) +
                    " forbids additional properties in the reader's schema but the writer's allows them");
    for (const auto& [name, _] : wprops.items())
      if (!rprops.contains(name))
        out.push_back("property '" + where(name) +
                      "' is not allowed by the reader's schema (additionalProperties: false)");
  }
  for (const auto& [name, rsub] : rprops.items()) {
    auto wsub = wprops.find(name);
    if (wsub == wprops.end()) continue;
    if (rsub.is_object() && rsub.contains("enum") && rsub["enum"].is_array()) {
      const auto& renum = rsub["enum"];
      if (!wsub->is_object() || !wsub->contains("enum") || !(*wsub)["enum"].is_array())
        out.push_back("property '" + where(name) +
                      "' is an enum in the reader's schema but not in the writer's");
      else
        for (const auto& v : (*wsub)["enum"])
          if (std::ranges::find(renum, v) == renum.end())
            out.push_back("property '" + where(name) + "': enum value " + v.dump() +
                          " of the writer's schema is not in the reader's");
    }
    check(rsub, *wsub, where(name), out, depth + 1);
  }
}

void run(const json& reader, const json& writer, std::string_view label,
         std::vector<std::string>& out) {
  std::vector<std::string> found;
  check(reader, writer, "", found, 0);
  for (auto& r : found) out.push_back(std::string(label) + ": " + r);
}

}  // namespace

std::vector<std::string> compatibility_violations(const json& previous, const json& next,
                                                  Compatibility rule) {
  std::vector<std::string> out;
  // backward: the new schema reads what the old one let producers write.
  if (rule == Compatibility::backward || rule == Compatibility::full)
    run(next, previous, "backward", out);
  if (rule == Compatibility::forward || rule == Compatibility::full)
    run(previous, next, "forward", out);
  return out;
}

}  // namespace evmesh::control
