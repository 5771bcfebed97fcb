// Reloader: live reload of evmeshd's config (docs/operations.md). On SIGHUP, and
// when a watched file changes (inotify: the config file, the encryption key file,
// the schema directory, the listeners' TLS certificates, keys and CAs), the whole
// config is loaded and validated again (new TLS contexts included), then:
//   1. authentication and ACLs (AccessControl::update), then the ingress pipeline
//      (policies, schemas, keys) are swapped atomically, each whole;
//   2. the listeners' new certificates are installed (TlsRotation): new connections
//      get them, open ones keep theirs;
//   3. the subscriptions declared in YAML are diffed against the running ones and
//      added, replaced or removed (API-created ones are left alone).
// An invalid config changes nothing: the old one keeps running, the error (file,
// line, reason) is logged and shown by the admin API's reload status.
// Other listener, runtime and log keys take effect at the next restart only;
// effective_config() shows what is in force and what waits for a restart.
//
// Runs on a strand of the daemon's io_context; any thread may call its methods.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include <boost/asio/io_context.hpp>

#include "evmesh/control/access_control.h"
#include "evmesh/control/config.h"
#include "evmesh/control/control_plane.h"
#include "evmesh/runtime/runtime.h"
#include "tls_rotation.h"

namespace evmesh::daemon {

class Reloader {
 public:
  Reloader(boost::asio::io_context& io, const control::Config& config, control::Overrides overrides,
           Runtime& runtime, control::ControlPlane& plane,
           std::shared_ptr<control::AccessControl> access = nullptr, const TlsRotation* tls = nullptr);
  ~Reloader();

  void start();  // SIGHUP handler and, when reload.watch, the file watches
  void stop();   // before the io_context stops
  void reload(const std::string& trigger);  // asynchronous; the outcome goes to the plane
  // GET /admin/config: the config in force (control::config_in_force), plus
  // "pending_restart": the keys the file changed that wait for a restart. Any thread.
  nlohmann::json effective_config() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evmesh::daemon
