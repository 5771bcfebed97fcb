// Raw request parsing: a malformed message is INVALID_ARGUMENT naming the field,
// the byte and the reason.
#include "adapters/grpc/wire.h"

#include <gtest/gtest.h>

#include "evmesh/v1/broker.pb.h"

namespace evmesh::grpc_adapter {
namespace {

namespace pb = ::evmesh::v1;
using namespace std::string_literals;

grpc::ByteBuffer bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

std::string why(const std::string& wire) {
  pb::PublishRequest request;
  auto status = parse_message(bytes(wire), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  return status.error_message();
}

TEST(Wire, RoundTrip) {
  pb::PublishRequest in;
  in.mutable_event()->set_id("1");
  in.mutable_event()->set_text_data("hello");
  grpc::ByteBuffer buffer;
  serialize_message(in, buffer);
  pb::PublishRequest out;
  ASSERT_TRUE(parse_message(buffer, out).ok());
  EXPECT_EQ(out.event().text_data(), "hello");
}

TEST(Wire, LengthPastTheEnd) {
  EXPECT_EQ(why("\x0a\xff\xff\xff\xff\x0f garbage"s),
            "malformed PublishRequest: event (field 1) at byte 0: length 4294967295 runs past "
            "the end of the message (8 bytes left)");
}

TEST(Wire, InvalidUtf8NamesTheNestedField) {
  EXPECT_EQ(why("\x0a\x03\x12\x01\xff"s),
            "malformed PublishRequest: event.source (field 2): not valid UTF-8");
  // A map value: attributes["k"].ce_string
  pb::PublishRequest ok;
  (*ok.mutable_event()->mutable_attributes())["k"].set_ce_string("\x01");
  auto wire = ok.SerializeAsString();
  wire[wire.size() - 1] = '\xfe';
  EXPECT_EQ(
      why(wire),
      "malformed PublishRequest: event.attributes.value.ce_string (field 3): not valid UTF-8");
}

TEST(Wire, BadTagsAndTruncation) {
  EXPECT_EQ(why("\x00\x01"s),
            "malformed PublishRequest: field 0 at byte 0: field number 0 is not allowed");
  EXPECT_EQ(why("\x0f"s),
            "malformed PublishRequest: event (field 1) at byte 0: wire type 7 is not used by "
            "proto3 messages");
  EXPECT_EQ(why("\x0a\x02\x08\xff"s),
            "malformed PublishRequest: event.id (field 1) at byte 2: truncated varint");
  EXPECT_EQ(why("\x0a\x01\x80"s), "malformed PublishRequest: event: truncated field tag at byte 2");
  EXPECT_EQ(why("\x09\x01\x02"s),
            "malformed PublishRequest: event (field 1) at byte 0: 8-byte value truncated (2 bytes "
            "left)");
}

TEST(Wire, UnknownFieldsAreFine) {
  pb::PublishRequest request;
  EXPECT_TRUE(parse_message(bytes("\x98\x06\x01"s), request).ok());  // field 99, varint
}

}  // namespace
}  // namespace evmesh::grpc_adapter
