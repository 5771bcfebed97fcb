#include "tls_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace evmesh::control::detail {
namespace {

std::string readable_file(const Reader& r, const YAML::Node& node, const std::string& key) {
  auto path = r.text(node, key);
  std::ifstream in(path, std::ios::binary);
  if (!in) r.fail(node, key, "cannot read '" + path + "': " + std::strerror(errno));
  return path;
}

}  // namespace

TlsConfig read_tls(const Reader& r, const YAML::Node& node, const std::string& key) {
  TlsConfig tls;
  r.for_each(node, key,
             [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& value) {
               const auto k = join_key(key, name);
               if (name == "cert_file")
                 tls.cert_file = readable_file(r, value, k);
               else if (name == "key_file")
                 tls.key_file = readable_file(r, value, k);
               else if (name == "client_ca_file")
                 tls.client_ca_file = readable_file(r, value, k);
               else
                 r.fail(key_node, k,
                        "unknown key (" + key + " keys: cert_file, key_file, client_ca_file)");
             });
  if (tls.cert_file.empty() != tls.key_file.empty())
    r.fail(node, key, "cert_file and key_file go together: set both (TLS) or neither (plaintext)");
  if (!tls.client_ca_file.empty() && tls.cert_file.empty())
    r.fail(node, key, "client_ca_file needs cert_file and key_file (client certificates need TLS)");
  return tls;
}

}  // namespace evmesh::control::detail
