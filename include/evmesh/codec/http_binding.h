// The CloudEvents HTTP protocol binding (http-protocol-binding.md), both directions,
// independent of any HTTP library: a message is a content type, a header list and a
// body.
//
// Modes: binary (attributes in ce-* headers, data in the body, datacontenttype in
// Content-Type), structured (application/cloudevents+json), batch
// (application/cloudevents-batch+json). Header values are percent-decoded per the
// binding (and encoded on the way out: space, '"', '%' and non-printable/non-ASCII).
#pragma once

#include <span>
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

// Whether detect_mode(content_type, any headers) is batch: without the work of an
// error for the content types that are not CloudEvents formats.
bool is_batch_content_type(std::string_view content_type);

// The same two on header fields by reference, as an HTTP server holds them (names in
// any case): the ingress needs no copy of the fields.
using HeaderView = std::pair<std::string_view, std::string_view>;
Result<HttpMode> detect_mode_fields(std::string_view content_type, std::span<const HeaderView> headers);
Result<std::vector<EventPtr>> decode_http_fields(std::string_view content_type,
                                                 std::span<const HeaderView> headers, std::string body);

// Encodes one event for an outgoing request.
HttpMessage encode_http(const Event& ev, HttpMode mode);

// Binary mode straight onto the wire: appends the header fields encode_http(ev,
// binary) would give (each "name: value\r\n", Content-Type last when there is one)
// to `out`, without building an HttpMessage; the body is then *ev.data(), as is.
// False, appending nothing, when the event must go structured (see encode_http).
bool append_binary_fields(const Event& ev, std::string& out);

std::string percent_encode_header(std::string_view value);
// The same, appended to `out`.
void append_percent_encoded(std::string& out, std::string_view value);
// nullopt on a malformed escape.
std::optional<std::string> percent_decode_header(std::string_view value);

}  // namespace evmesh::codec
