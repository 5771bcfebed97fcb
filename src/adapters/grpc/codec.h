// The CloudEvents protobuf format <-> evmesh::Event.
//
// Decoding (proto -> Event):
//   id, source, spec_version, type      the explicit fields (REQUIRED; validated by
//                                       EventBuilder, errors name the attribute)
//   attributes[name] = value            ce_boolean -> "true"/"false" (JSON boolean kind),
//                                       ce_integer -> decimal (JSON integer kind),
//                                       ce_string, ce_uri, ce_uri_ref -> as is,
//                                       ce_bytes -> base64 (the canonical Binary form),
//                                       ce_timestamp -> RFC 3339 UTC ("...Z", fraction
//                                       only as long as needed)
//   binary_data / text_data             data bytes
//   proto_data (Any)                    data = Any.value; datacontenttype defaults to
//                                       "application/protobuf", dataschema to the type URL
//                                       when that is an absolute URI (the Any wrapper
//                                       itself is not kept: it comes back as binary_data)
// The REQUIRED attributes may not appear in `attributes` (they are explicit fields);
// a value with no member of the oneof set is invalid.
//
// Encoding (Event -> proto): datacontenttype and subject as ce_string, dataschema as
// ce_uri, time as ce_timestamp, extensions by the kind they arrived with (boolean,
// integer, string). Data goes to text_data when the bytes are valid UTF-8 and the
// media type is textual (text/*, JSON, XML) or absent, otherwise binary_data. A time with a
// numeric offset ("+02:00") comes back as the same instant in UTC.
#pragma once

#include <string>

#include "evmesh/core/event.h"
#include "cloudevents/v1/cloudevents.pb.h"

namespace evmesh::grpc_adapter {

using ProtoEvent = io::cloudevents::v1::CloudEvent;

// Pure; any thread. Errors are invalid_event with the attribute as pointer.
Result<EventPtr> decode_event(const ProtoEvent& in);
// Pure; any thread. Never fails: every valid Event has a protobuf form.
void encode_event(const Event& in, ProtoEvent& out);

// RFC 3339 <-> (seconds, nanos) since the Unix epoch, for ce_timestamp.
bool parse_rfc3339(std::string_view s, std::int64_t& seconds, std::int32_t& nanos);
std::string format_rfc3339(std::int64_t seconds, std::int32_t nanos);

}  // namespace evmesh::grpc_adapter
