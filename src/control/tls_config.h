// Internal to the control module: a listener's `tls` mapping (cert_file, key_file,
// client_ca_file) read into a TlsConfig. Shared by every listener's section so the
// keys and their checks are the same everywhere (docs/configuration.md).
#pragma once

#include "config_reader.h"
#include "evmesh/control/config.h"

namespace evmesh::control::detail {

// Reads `node` (a mapping; null = plaintext) at `key` ("grpc.tls"). cert_file and
// key_file go together; client_ca_file needs them. Each named file must be readable
// now, so a typo fails at start-up with the file, line and key.
TlsConfig read_tls(const Reader& r, const YAML::Node& node, const std::string& key);

}  // namespace evmesh::control::detail
