// Request and response messages as raw bytes. The service registers its methods as
// raw (grpc::ByteBuffer) handlers and parses requests itself, because gRPC C++ 1.51
// rejects a request it cannot parse before any handler runs, with UNIMPLEMENTED and
// no message. Here a malformed request is INVALID_ARGUMENT naming what is wrong:
//
//   malformed PublishRequest: event.source (field 2): not valid UTF-8
//   malformed PublishRequest: event (field 1) at byte 0: length 4294967295 runs past
//     the end of the message (12 bytes left)
//   malformed SubscribeRequest: field 0 at byte 3: field number 0 is not allowed
//
// Any thread; pure.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

namespace evmesh::grpc_adapter {

// Parses `in` into `out`; on failure INVALID_ARGUMENT from describe_malformed.
grpc::Status parse_message(const grpc::ByteBuffer& in, google::protobuf::Message& out);
// Serialises `in` into `out` (never fails for an initialised proto3 message).
void serialize_message(const google::protobuf::Message& in, grpc::ByteBuffer& out);

// Walks `bytes` as the wire form of `type` and names the first thing that makes it
// unparseable: the field path, the byte offset and the reason. "" when it finds none.
std::string describe_malformed(const google::protobuf::Descriptor& type, std::string_view bytes);

}  // namespace evmesh::grpc_adapter
