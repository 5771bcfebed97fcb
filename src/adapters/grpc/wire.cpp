#include "wire.h"

#include <optional>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/impl/codegen/proto_utils.h>  // GenericSerialize (gRPC 1.51 keeps it there)
#include <grpcpp/support/proto_buffer_writer.h>

#include "evmesh/core/event.h"

namespace evmesh::grpc_adapter {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr int kMaxDepth = 100;  // protobuf's own recursion limit

bool read_varint(std::string_view bytes, std::size_t& pos, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(bytes[pos++]);
    value |= std::uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

// One message level of `type`; `path` is the field path so far ("event." or "").
// Unknown fields are skipped by wire type, not descended into. Returns the first
// problem found.
std::optional<std::string> walk(const Descriptor* type, std::string_view bytes, std::size_t base,
                                const std::string& path, int depth) {
  if (depth > kMaxDepth)
    return fmt::format("{}: messages nested deeper than {} levels", path.substr(0, path.size() - 1),
                       kMaxDepth);
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t at = base + pos;
    std::uint64_t tag = 0;
    if (!read_varint(bytes, pos, tag))
      return fmt::format("{}truncated field tag at byte {}",
                         path.empty() ? "" : path.substr(0, path.size() - 1) + ": ", at);
    const auto number = tag >> 3;
    const auto wire_type = static_cast<int>(tag & 7);
    const FieldDescriptor* field =
        type && number <= 0x1fffffff ? type->FindFieldByNumber(static_cast<int>(number)) : nullptr;
    const auto name = field ? fmt::format("{}{} (field {})", path, field->name(), number)
                            : fmt::format("{}field {}", path, number);
    auto problem = [&](std::string_view why) {
      return fmt::format("{} at byte {}: {}", name, at, why);
    };
    if (number == 0 || number > 0x1fffffff) return problem("field number 0 is not allowed");
    const std::size_t left = bytes.size() - pos;
    switch (wire_type) {
      case 0: {
        std::uint64_t ignored;
        if (!read_varint(bytes, pos, ignored)) return problem("truncated varint");
        break;
      }
      case 1:
      case 5: {
        const std::size_t size = wire_type == 1 ? 8 : 4;
        if (left < size)
          return problem(fmt::format("{}-byte value truncated ({} bytes left)", size, left));
        pos += size;
        break;
      }
      case 2: {
        std::uint64_t length = 0;
        if (!read_varint(bytes, pos, length)) return problem("truncated length");
        const std::size_t rest = bytes.size() - pos;
        if (length > rest)
          return problem(fmt::format("length {} runs past the end of the message ({} bytes left)",
                                     length, rest));
        const auto value = bytes.substr(pos, length);
        if (field && field->type() == FieldDescriptor::TYPE_MESSAGE) {
          if (auto inner = walk(field->message_type(), value, base + pos,
                                path + field->name() + ".", depth + 1))
            return inner;
        } else if (field && field->type() == FieldDescriptor::TYPE_STRING && !valid_utf8(value)) {
          return fmt::format("{}: not valid UTF-8", name);
        }
        pos += length;
        break;
      }
      default:
        return problem(fmt::format("wire type {} is not used by proto3 messages", wire_type));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string describe_malformed(const Descriptor& type, std::string_view bytes) {
  return walk(&type, bytes, 0, "", 0).value_or("");
}

grpc::Status parse_message(const grpc::ByteBuffer& in, google::protobuf::Message& out) {
  grpc::ByteBuffer copy(in);  // shares the slices; the reader needs a mutable buffer
  {
    grpc::ProtoBufferReader reader(&copy);
    if (reader.status().ok() && out.ParseFromZeroCopyStream(&reader)) return grpc::Status::OK;
  }
  // Cold path: flatten and find out why.
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (in.Dump(&slices).ok())
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  auto why = describe_malformed(*out.GetDescriptor(), bytes);
  if (why.empty()) why = "not a valid protobuf message";
  return {grpc::StatusCode::INVALID_ARGUMENT,
          fmt::format("malformed {}: {}", out.GetDescriptor()->name(), why)};
}

void serialize_message(const google::protobuf::Message& in, grpc::ByteBuffer& out) {
  bool own_buffer = false;
  grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(in, &out, &own_buffer);
}

}  // namespace evmesh::grpc_adapter
