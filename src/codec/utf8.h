// UTF-8 well-formedness, shared by the codecs. Internal to evmesh_codec.
#pragma once

#include <string_view>

namespace evmesh::codec {

// True when `bytes` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates, nothing above U+10FFFF. Says nothing about which characters a
// CloudEvents String allows; EventBuilder checks that.
bool valid_utf8(std::string_view bytes);

}  // namespace evmesh::codec
