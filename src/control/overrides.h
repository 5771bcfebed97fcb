// Internal to the control module: --set and EVMESH_* overrides, spliced into the
// YAML tree before it is read, so an overridden value goes through exactly the same
// checks as one written in the file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config_reader.h"
#include "evmesh/control/config.h"

namespace evmesh::control::detail {

// The keys an override may name: "<section>.<key>", or a section replaced whole.
struct SectionKeys {
  std::string_view name;
  std::vector<std::string_view> keys;  // empty: the section is replaced whole
};

struct Override {
  std::string origin;  // "--set" or the environment variable's name
  std::string key;     // dotted, e.g. "http.port"
  std::string value;   // YAML text
};

// Environment overrides (sorted by variable name) followed by the command line ones,
// so applying them in order makes the command line win. A variable is an override
// when it starts with EVMESH_ and either contains "__" or names a section
// (EVMESH_LOG, EVMESH_HTTP_PORT - the latter to report the missing "__"); other
// EVMESH_* variables (EVMESH_SOURCE_DIR) are not config.
std::vector<Override> collect_overrides(const Overrides& cli, char** environ_block,
                                        const std::vector<SectionKeys>& schema);

// Validates each key against `schema`, parses its value as YAML, writes it into
// `root` (a mapping or null) and records the origin in `reader`. Throws ConfigError.
void apply_overrides(YAML::Node& root, const std::vector<Override>& overrides,
                     const std::vector<SectionKeys>& schema, Reader& reader);

}  // namespace evmesh::control::detail
