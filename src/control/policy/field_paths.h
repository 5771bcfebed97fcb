// Internal to the control module: finding a dotted field path ("card.number") in a
// JSON document, for the encrypt-fields and redact-fields actions.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace evmesh::control::detail {

// The value at `path` (object members only), or null when a segment is missing.
inline nlohmann::json* field_at(nlohmann::json& doc, std::string_view path) {
  nlohmann::json* at = &doc;
  while (true) {
    const auto dot = path.find('.');
    const auto name = path.substr(0, dot);
    if (!at->is_object()) return nullptr;
    auto it = at->find(name);
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string_view::npos) return at;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace evmesh::control::detail
