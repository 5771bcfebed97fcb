// The MQTT wire codec: bytes <-> Packet (packet.h) for 3.1.1 and 5.0.
//
// Decoding is strict and total: any input either yields a packet that obeys every
// MUST of the specification that can be checked without session state, or an error
// carrying the MQTT 5 reason code the connection closes with (malformed packet 0x81,
// protocol error 0x82, unsupported protocol version 0x84, ...) and a message naming
// what is wrong. Nothing untrusted reaches an assert. Any thread; no state.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "packet.h"

namespace evmesh::mqtt {

struct DecodeError {
  std::uint8_t reason = reason::malformed;
  std::string message;
  std::uint8_t connect_version = 0;  // a failed CONNECT: the protocol level it named, if readable
};

template <typename T>
using Decoded = std::expected<T, DecodeError>;

// The fixed header (2.1): packet type and flags, and the remaining length.
struct FrameHeader {
  std::uint8_t first = 0;        // type << 4 | flags
  std::uint32_t remaining = 0;   // bytes after the fixed header
  std::size_t header_size = 0;   // 2..5
  PacketType type() const { return static_cast<PacketType>(first >> 4); }
};

// nullopt when `buf` does not hold a whole fixed header yet. Error: a remaining
// length longer than four bytes, or packet type 0.
Decoded<std::optional<FrameHeader>> parse_frame_header(std::string_view buf);

// Decodes one packet from its first byte and the `remaining` bytes after the fixed
// header. `version` is the connection's protocol level (4 or 5); before CONNECT
// pass 0 and only CONNECT is accepted (its own level decides).
Decoded<Packet> decode_packet(std::uint8_t first, std::string_view body, std::uint8_t version);

// Appends the encoding of `p` for protocol level `version` to `out`. Properties are
// written only for 5.0. The caller keeps values within the wire's limits.
void encode_packet(const Packet& p, std::uint8_t version, std::string& out);

// A PUBLISH without its payload: the fixed header (whose remaining length counts
// `payload_size` more bytes) and the variable header. Fan-out writes this and a
// shared payload buffer in one gather write, so the payload is never copied.
void encode_publish_head(const Publish& p, std::size_t payload_size, std::uint8_t version,
                         std::string& out);

// Size in bytes of the whole encoded packet (to check a peer's maximum packet size).
std::size_t encoded_publish_size(const Publish& p, std::size_t payload_size, std::uint8_t version);

}  // namespace evmesh::mqtt
