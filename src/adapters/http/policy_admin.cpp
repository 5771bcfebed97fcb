#include "policy_admin.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "json_body.h"
#include "problem.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

// "{type}" or "{type}/versions/{n}" -> (type, n); n = 0 for the latest.
std::optional<std::pair<std::string, int>> schema_target(std::string_view rest) {
  constexpr std::string_view kVersions = "/versions/";
  const auto at = rest.find(kVersions);
  if (at == std::string_view::npos) {
    if (rest.empty()) return std::nullopt;
    return std::pair{std::string(rest), 0};
  }
  const auto number = rest.substr(at + kVersions.size());
  int n = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc{} || end != number.data() + number.size() || n < 1 || at == 0) return std::nullopt;
  return std::pair{std::string(rest.substr(0, at)), n};
}

}  // namespace

void add_policy_routes(AdminRoutes& routes, control::ControlPlane& plane,
                       std::function<void(const std::string&)> reload) {
  routes.add(bh::verb::get, "/admin/schemas", [&plane](const AdminRequest&) {
    return json_response(bh::status::ok, plane.schemas_json());
  });
  routes.add(bh::verb::post, "/admin/schemas", [&plane](const AdminRequest& r) {
    auto body = json_object_body(r.req);
    if (!body) return problem_response(body.error());
    auto registered = plane.register_schema(*body);
    if (!registered) return problem_response(registered.error());
    r.ctx.log->info("schema {} version {} registered by {}", (*registered)["type"].get<std::string>(),
                    (*registered)["version"].get<int>(), r.principal.name);
    return json_response(bh::status::created, *registered);
  });
  routes.add_prefix(bh::verb::get, "/admin/schemas/", [&plane](const AdminRequest& r) {
    auto target = schema_target(r.rest);
    if (!target)
      return problem_response(bh::status::not_found, "not-found", "Not found",
                              "expected /admin/schemas/{type} or /admin/schemas/{type}/versions/{n}");
    auto schema = plane.schema_json(target->first, target->second);
    if (!schema) return problem_response(schema.error());
    return json_response(bh::status::ok, *schema);
  });
  routes.add(bh::verb::get, "/admin/policies", [&plane](const AdminRequest&) {
    return json_response(bh::status::ok, plane.policies_json());
  });
  routes.add(bh::verb::get, "/admin/reload", [&plane](const AdminRequest&) {
    return json_response(bh::status::ok, plane.status_json());
  });
  routes.add(bh::verb::post, "/admin/reload", [reload](const AdminRequest& r) {
    reload("admin API (" + r.principal.name + ")");
    return json_response(bh::status::accepted, {{"status", "reloading"}});
  });
}

}  // namespace evmesh::http
