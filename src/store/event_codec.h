// The on-disk form of one event in the embedded store: a compact binary record,
// not the JSON format, so that the store needs no codec and data is kept as raw
// bytes (no base64).
//
//   u8 version (1) | u16 attribute count | per attribute: u8 kind, varint name
//   length, name, varint value length, value | u8 has data | [varint length, data]
//
// decode() rebuilds the event through EventBuilder, so a damaged record is an
// error naming what is wrong, never an invalid Event.
#pragma once

#include <string>
#include <string_view>

#include "evmesh/core/event.h"

namespace evmesh::store::detail {

void encode_event(const Event& ev, std::string& out);
Result<EventPtr> decode_event(std::string_view record);
// The size of encode_event()'s record: what size-bounded retention counts.
std::size_t encoded_size(const Event& ev);

}  // namespace evmesh::store::detail
