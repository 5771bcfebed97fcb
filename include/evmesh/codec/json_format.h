// The CloudEvents JSON event format (json-format.md), single events and batches.
//
// Decoding: `data` holds a JSON value when datacontenttype is absent or JSON
// (*/json, */*+json); the exact text the sender wrote for the value (trimmed of
// surrounding whitespace) becomes the event's data bytes, so a JSON payload is
// relayed byte for byte (key order, number spelling, signatures survive). A JSON string `data` with a non-JSON content type becomes
// the string's UTF-8 bytes. `data_base64` holds binary data. Having both is an error.
// Extensions keep their JSON kind (string, boolean, integer); any other JSON value
// for an attribute is rejected naming the attribute.
//
// Encoding is the inverse: JSON data is embedded as a JSON value when it parses,
// text data as a string, anything else as data_base64.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/event.h"

namespace evmesh::codec {

// True for any */json and */*+json (parameters ignored).
bool is_json_media_type(std::string_view content_type);

// Decodes one event from a JSON text. Errors: invalid_format (not JSON / not an
// object), invalid_event (pointer = attribute name).
Result<EventPtr> decode_json_event(std::string_view text);
// Same, from an already parsed object; JSON data is stored in compact form.
Result<EventPtr> decode_json_object(const nlohmann::json& object);

// Decodes a batch (a JSON array of events). All-or-nothing: the first bad event
// fails the whole batch; the error pointer is "/<index>/<attribute>".
Result<std::vector<EventPtr>> decode_json_batch(std::string_view text);

nlohmann::json to_json(const Event& ev);
std::string encode_json_event(const Event& ev);
std::string encode_json_batch(const std::vector<EventPtr>& events);

}  // namespace evmesh::codec
