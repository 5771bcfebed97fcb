// Raw text spans inside a JSON document. Internal to evmesh_codec.
//
// Why: a DOM (nlohmann::json) loses how a value was written: object member order,
// number spelling (1.10, integers beyond 64 bits), escapes. The JSON format keeps
// `data` as the exact text the sender wrote by locating its span in the document.
//
// Both functions expect text that a JSON parser has already accepted; on anything
// else they return a best-effort answer, never read out of bounds.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace evmesh::codec {

// The text of the value of member `name` of the top-level object, without
// surrounding whitespace. The last occurrence wins, as in nlohmann::json.
std::optional<std::string_view> json_member_span(std::string_view object_text, std::string_view name);

// The text of each element of the top-level array, without surrounding whitespace.
std::vector<std::string_view> json_element_spans(std::string_view array_text);

}  // namespace evmesh::codec
