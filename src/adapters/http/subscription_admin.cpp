#include "subscription_admin.h"

#include <algorithm>

#include <fmt/format.h>

#include "dlq_api.h"
#include "problem.h"
#include "replay_api.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

std::optional<Response> refuse_non_admin(const ServerContext& ctx, const control::Principal& who,
                                         std::string_view path, bool open_default) {
  const auto& allowed = ctx.admin_principals;
  if (!ctx.access) {  // no access control (tests, embedding): everyone is anonymous
    if (open_default && allowed.empty()) return std::nullopt;
    if (std::ranges::find(allowed, who.name) != allowed.end()) return std::nullopt;
    return problem_response(Error::make(
        Errc::permission_denied,
        fmt::format("principal '{}' may not use the admin API (see admin.principals)", who.name)));
  }
  if (open_default && allowed.empty() && !ctx.access->acl_enabled()) return std::nullopt;
  // Counted and logged by AccessControl (GET /admin/denials, action "admin").
  if (auto ok = ctx.access->authorize_admin(who, allowed, path); !ok) return problem_response(ok.error());
  return std::nullopt;
}

Response handle_subscription_admin(ServerContext& ctx, Request& req, std::string_view path) {
  if (path.ends_with(kReplaySuffix) && path.size() > kDeadLetterPrefix.size() + kReplaySuffix.size()) {
    const auto id = path.substr(kDeadLetterPrefix.size(),
                                path.size() - kDeadLetterPrefix.size() - kReplaySuffix.size());
    if (id.find('/') != std::string_view::npos)
      return problem_response(bh::status::not_found, "not-found", "Not found",
                              fmt::format("no resource at {}", path));
    return handle_replay(ctx, req, id);
  }
  return handle_dead_letters(ctx, req, path);
}

void add_subscription_admin_routes(AdminRoutes& routes) {
  auto handler = [](const AdminRequest& r) { return handle_subscription_admin(r.ctx, r.req, r.path); };
  for (auto verb : {bh::verb::get, bh::verb::delete_, bh::verb::post})
    routes.add_prefix(verb, std::string(kDeadLetterPrefix), handler);
}

}  // namespace evmesh::http
