// Internal to the control module: the security parts of the YAML config — `auth`,
// `acl`, `admin` and the listeners' `tls` blocks (docs/security.md). Each reader
// fails with a ConfigError naming the file, line and key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config_reader.h"
#include "evmesh/control/config.h"

namespace evmesh::control::detail {

// `auth.api_keys`: [{principal, hash}]
void read_api_keys(const Reader& r, const YAML::Node& node, const std::string& key, AuthConfig& auth);
// `auth.jwt`: [{issuer, audience, algorithm, secret_file|secret_env|public_key_file, ...}]
void read_jwt(const Reader& r, const YAML::Node& node, const std::string& key, AuthConfig& auth);
// `auth.mtls`: {principal: cn|dn, prefix}
void read_mtls(const Reader& r, const YAML::Node& node, const std::string& key, AuthConfig& auth);
// `admin.listen`: "host:port"
void read_listen(const Reader& r, const YAML::Node& node, const std::string& key,
                 AdminListenerConfig& admin);
// A list of non-empty strings (`admin.principals`).
std::vector<std::string> read_strings(const Reader& r, const YAML::Node& node, const std::string& key);
// The top-level `acl:` list.
void read_acl(const Reader& r, const YAML::Node& node, Config& config);
// Cross-checks once everything is read: compiles the ACL and the authenticator
// (bad patterns, keys, duplicates), admin needs principals.
void check_security(const Reader& r, const YAML::Node& root, const Config& config);

}  // namespace evmesh::control::detail
