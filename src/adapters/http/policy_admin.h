// Admin endpoints of the policies and the schema registry (admin listener,
// docs/schemas.md, docs/policies.md, docs/operations.md):
//
//   GET  /admin/schemas                         [{"type", "versions": [{version, uri, origin}]}]
//   POST /admin/schemas                         register a version (body: a registration
//                                               document, docs/schemas.md) -> 201 the version;
//                                               400 bad document, 409 version/uri taken,
//                                               400 rejected + violations: incompatible
//   GET  /admin/schemas/{type}                  the latest version of the type
//   GET  /admin/schemas/{type}/versions/{n}     one version
//   GET  /admin/policies                        the policies as running (conditions + CESQL)
//   GET  /admin/reload                          the last reload: generation, ok, error, file, line
//   POST /admin/reload                          reload now (like SIGHUP); 202
#pragma once

#include <functional>
#include <string>

#include "admin_routes.h"
#include "evmesh/control/control_plane.h"

namespace evmesh::http {

// `reload(trigger)` starts a reload (the daemon's Reloader).
void add_policy_routes(AdminRoutes& routes, control::ControlPlane& plane,
                       std::function<void(const std::string&)> reload);

}  // namespace evmesh::http
