#include "admin_security.h"

#include <fmt/format.h>

#include "admin_api.h"
#include "problem.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

Result<std::string> parameter(const AdminRequest& r, const std::string& name) {
  auto it = r.query.find(name);
  if (it == r.query.end() || it->second.empty())
    return fail(Errc::invalid_format, fmt::format("the query parameter '{}' is required", name), name);
  return it->second;
}

Response acl_check(const control::AccessControl& access, const AdminRequest& r) {
  auto principal = parameter(r, "principal");
  if (!principal) return problem_response(principal.error());
  auto action = parameter(r, "action");
  if (!action) return problem_response(action.error());
  if (*action != "publish" && *action != "subscribe")
    return problem_response(Error::make(
        Errc::invalid_format,
        fmt::format("action must be publish or subscribe, got '{}'", *action), "action"));
  auto type = parameter(r, "type");
  if (!type) return problem_response(type.error());
  const auto act = *action == "publish" ? control::AclAction::publish : control::AclAction::subscribe;
  return json_response(bh::status::ok, {{"principal", *principal},
                                        {"action", *action},
                                        {"type", *type},
                                        {"allowed", access.check(*principal, act, *type)},
                                        {"acl", access.acl_enabled()}});
}

}  // namespace

void add_security_routes(AdminRoutes& routes, SecurityAdminDeps deps) {
  auto access = deps.access;
  routes.add(bh::verb::get, "/admin/config", [config = std::move(deps.effective_config)](auto&) {
    return json_response(bh::status::ok, config());
  });
  routes.add(bh::verb::get, "/admin/acl/check",
             [access](const AdminRequest& r) { return acl_check(*access, r); });
  routes.add(bh::verb::get, "/admin/denials",
             [access](auto&) { return json_response(bh::status::ok, access->denials()); });
  routes.add(bh::verb::get, "/admin/whoami", [](const AdminRequest& r) {
    return json_response(bh::status::ok,
                         {{"principal", r.principal.name}, {"method", r.principal.method}});
  });
  for (const char* path : {"/admin/filter/test", "/admin/cesql/eval"})
    routes.add(bh::verb::post, path,
               [](const AdminRequest& r) { return handle_admin(r.ctx, r.req, r.path); });
}

}  // namespace evmesh::http
