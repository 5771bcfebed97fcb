// The CloudEvents HTTP protocol binding (http-protocol-binding.md), both directions,
// independent of any HTTP library: a message is a content type, a header list and a
// body.
//
// Modes: binary (attributes in ce-* headers, data in the body, datacontenttype in
// Content-Type), structured (application/cloudevents+json), batch
// (application/cloudevents-batch+json). Header values are percent-decoded per the
// binding (and encoded on the way out: space, '"', '%' and non-printable/non-ASCII).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evmesh/core/event.h"

namespace evmesh::codec {

enum class HttpMode { binary, structured, batch };

struct HttpMessage {
  // Header names lower-case. Content-Type is carried in content_type, not here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
};

inline constexpr std::string_view kStructuredJson = "application/cloudevents+json";
inline constexpr std::string_view kBatchJson = "application/cloudevents-batch+json";

// Which mode an incoming request uses, from its Content-Type and headers:
// batch and structured by media type (parameters ignored, case-insensitive),
// otherwise binary when a ce-specversion header is present. Anything else
// (e.g. application/cloudevents+xml, or no ce-* headers at all) is unsupported_media.
Result<HttpMode> detect_mode(std::string_view content_type,
                             const std::vector<std::pair<std::string, std::string>>& headers);

// Decodes an incoming request in any mode into one or more events. The body is moved
// into the event's data in binary mode (no copy). Errors name the header or attribute.
Result<std::vector<EventPtr>> decode_http(std::string_view content_type,
                                          const std::vector<std::pair<std::string, std::string>>& headers,
                                          std::string body);

// Encodes one event for an outgoing request.
HttpMessage encode_http(const Event& ev, HttpMode mode);

std::string percent_encode_header(std::string_view value);
// nullopt on a malformed escape.
std::optional<std::string> percent_decode_header(std::string_view value);

}  // namespace evmesh::codec
