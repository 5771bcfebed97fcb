// TlsRotation: the running listeners' TLS contexts (HTTP, admin, MQTT) that a config
// reload renews (docs/operations.md). A reload first prepares every listener's
// context from the new config — a missing, unparsable or mismatched certificate or
// key refuses the whole reload, naming the key and file, and the old certificates
// stay — then installs them with the rest of the config. New connections get the
// new certificate; open ones keep the one they were accepted with.
//
// Set up at start-up (add), then used on the Reloader's strand only.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "evmesh/control/config.h"
#include "tls/server_tls.h"

namespace evmesh::daemon {

class TlsRotation {
 public:
  using Section = std::function<const control::TlsConfig&(const control::Config&)>;
  // What a reload will change; built by prepare, applied by install.
  struct Plan {
    std::vector<std::pair<std::shared_ptr<tls::ServerTls>, std::shared_ptr<const tls::ServerTls::Loaded>>> renew;
    std::vector<std::string> changes;  // "http.tls: certificate reloaded", restart notes
  };

  // A listener with TLS on; `section` picks its keys from a config (c.http.tls).
  void add(std::shared_ptr<tls::ServerTls> listener, Section section);

  Result<Plan> prepare(const control::Config& next) const;
  // Returns the plan's changes.
  std::vector<std::string> install(Plan plan) const;

 private:
  struct Listener {
    std::shared_ptr<tls::ServerTls> tls;
    Section section;
  };
  std::vector<Listener> listeners_;
};

// Every TLS file named in `config` (http, admin, mqtt, grpc), to watch for changes.
std::vector<std::filesystem::path> tls_files(const control::Config& config);

}  // namespace evmesh::daemon
