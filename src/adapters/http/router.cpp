#include "router.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "admin_api.h"
#include "dlq_api.h"
#include "admin_routes.h"
#include "ingress.h"
#include "problem.h"
#include "subscription_admin.h"
#include "subscriptions_api.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

constexpr std::string_view kCollection = "/subscriptions";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Response not_found(std::string_view target) {
  return problem_response(bh::status::not_found, "not-found", "Not found",
                          fmt::format("no resource at {}", target));
}

Response health(ServerContext& ctx, Request& req, bool readiness) {
  if (req.method() != bh::verb::get && req.method() != bh::verb::head)
    return method_not_allowed(req, "GET, HEAD");
  if (readiness && !ctx.accepting.load()) {
    return problem_response(Error::make(Errc::shutting_down, "the server is draining"));
  }
  return json_response(bh::status::ok, {{"status", readiness ? "ready" : "ok"}});
}

// The caller's principal: "anonymous" without credentials when that is allowed;
// without access control (tests, embedding) everyone is anonymous.
Result<control::Principal> authenticate(ServerContext& ctx, const Request& req,
                                        const control::PeerCertificate& peer) {
  if (!ctx.access) return control::Principal{std::string(control::kAnonymous), "anonymous"};
  const auto authorization = req[bh::field::authorization];
  return ctx.access->authenticate(
      {std::string_view(authorization.data(), authorization.size()), &peer}, "http");
}

Response route_admin(ServerContext& ctx, Request& req, const std::string& path,
                     const control::PeerCertificate& peer) {
  auto who = authenticate(ctx, req, peer);
  if (!who) return problem_response(who.error());
  if (auto refused = refuse_non_admin(ctx, *who, path, /*open_default=*/false)) return std::move(*refused);
  return ctx.admin->dispatch(ctx, req, path, *who);
}

}  // namespace

std::optional<std::string> target_path(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::string out;
  out.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] != '%') {
      out.push_back(target[i]);
      continue;
    }
    if (i + 2 >= target.size()) return std::nullopt;
    const int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

BodyLimit body_limit_for(const ServerContext& ctx, bh::verb method, std::string_view target,
                           const bh::fields& fields) {
  if (method == bh::verb::post && target.substr(0, target.find('?')) == "/")
    return ingress_body_limit(ctx.config, fields);
  return {ctx.config.max_event_bytes, "max_event_bytes"};
}

std::optional<Response> route(ServerContext& ctx, Request& req, const control::PeerCertificate& peer,
                              Later& later) {
  const std::string_view target = req.target();
  const auto path = target_path(target);
  if (!path) {
    return problem_response(bh::status::bad_request, "bad-request", "Bad request",
                            "malformed percent-escape in the request target");
  }
  if (*path == "/healthz") return health(ctx, req, false);
  if (*path == "/readyz") return health(ctx, req, true);
  if (ctx.admin) return route_admin(ctx, req, *path, peer);
  auto who = authenticate(ctx, req, peer);
  if (!who) return problem_response(who.error());
  if (*path == "/") {
    if (req.method() != bh::verb::post) return method_not_allowed(req, "POST");
    return handle_ingress(ctx, req, *who, later);
  }
  if (*path == kCollection || *path == "/subscriptions/") return handle_subscriptions(ctx, req, *who);
  if (path->starts_with(kCollection) && (*path)[kCollection.size()] == '/') {
    const std::string_view id = std::string_view(*path).substr(kCollection.size() + 1);
    if (id.find('/') != std::string_view::npos) return not_found(target);
    return handle_subscription(ctx, req, id, *who);
  }
  if (path->starts_with(kDeadLetterPrefix)) {
    if (auto refused = refuse_non_admin(ctx, *who, *path, /*open_default=*/true)) return std::move(*refused);
    return handle_subscription_admin(ctx, req, *path);
  }
  if (path->starts_with("/admin/")) return handle_admin(ctx, req, *path);
  return not_found(target);
}

}  // namespace evmesh::http
