#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace evmesh::codec {

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);
// nullopt when the input is not valid base64 (wrong alphabet, bad padding/length).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace evmesh::codec
