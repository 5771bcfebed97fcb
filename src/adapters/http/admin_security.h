// The admin listener's own endpoints (docs/security.md):
//
//   GET  /admin/config                       the effective config, secrets redacted
//   GET  /admin/acl/check?principal=P&action=publish|subscribe&type=T
//        200 {"principal", "action", "type", "allowed": bool, "acl": bool (ACL enabled)}
//        400 problem naming the missing or bad parameter (pointer = its name)
//   GET  /admin/denials                      denial counters (AccessControl::denials)
//   GET  /admin/whoami                       {"principal", "method"} of the caller
//   POST /admin/filter/test, /admin/cesql/eval   as on the main listener (admin_api.h)
#pragma once

#include <functional>
#include <memory>

#include <nlohmann/json.hpp>

#include "admin_routes.h"
#include "evmesh/control/access_control.h"

namespace evmesh::http {

struct SecurityAdminDeps {
  std::shared_ptr<control::AccessControl> access;
  std::function<nlohmann::json()> effective_config;  // called per request (reload-safe)
};

void add_security_routes(AdminRoutes& routes, SecurityAdminDeps deps);

}  // namespace evmesh::http
