// Operator endpoints on subscriptions: dead letters (dlq_api.h) and replay
// (replay_api.h), under /admin/subscriptions/{id}/. They read and re-send events of
// any type, so they need an admin principal (docs/security.md):
//
// - on the admin listener they are admin routes like the others (admin.principals);
// - on the main listener the same check applies: the caller must be one of
//   admin.principals ("*": any authenticated principal), otherwise 403. Only the open
//   default (no ACL and an empty admin.principals: every caller is alike) skips it.
#pragma once

#include <optional>
#include <string_view>

#include "admin_routes.h"
#include "evmesh/control/auth.h"
#include "server_context.h"

namespace evmesh::http {

// The 403 problem when `who` is not one of ctx.admin_principals (counted and logged by
// AccessControl::authorize_admin); nullopt when it is (`open_default`: also when no
// ACL is enabled and the list is empty).
std::optional<Response> refuse_non_admin(const ServerContext& ctx, const control::Principal& who,
                                         std::string_view path, bool open_default);

// `path` starts with kDeadLetterPrefix: /admin/subscriptions/{id}/replay or
// /admin/subscriptions/{id}/deadletters...; the caller has been authorised.
Response handle_subscription_admin(ServerContext& ctx, Request& req, std::string_view path);

// The same endpoints as admin-listener routes.
void add_subscription_admin_routes(AdminRoutes& routes);

}  // namespace evmesh::http
