// MQTT 5.0 properties (2.2.2): decoding with the per-packet rules, encoding.
// Internal to the codec.
#pragma once

#include <cstdint>
#include <string>

#include "codec.h"
#include "wire.h"

namespace evmesh::mqtt {

// Where a property block sits: a packet type, or the will properties of CONNECT.
enum class PropertyContext : std::uint16_t {
  connect = 1 << 0, connack = 1 << 1, publish = 1 << 2, will = 1 << 3, ack = 1 << 4,
  subscribe = 1 << 5, suback = 1 << 6, unsubscribe = 1 << 7, unsuback = 1 << 8,
  disconnect = 1 << 9, auth = 1 << 10,
};

// Reads the property length and the properties. A property not allowed in the
// context, or of an unknown identifier, is a malformed packet; a repeated one (but
// user properties and PUBLISH subscription identifiers) or a value out of range is a
// protocol error (2.2.2.2, 3.x.2.3).
std::optional<DecodeError> read_properties(wire::Reader& r, PropertyContext where, Properties& out);

// Appends the property length and the properties present.
void write_properties(std::string& out, const Properties& p);
std::size_t properties_size(const Properties& p);  // including the length prefix

}  // namespace evmesh::mqtt
