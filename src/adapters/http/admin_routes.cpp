#include "admin_routes.h"

#include <fmt/format.h>

#include "problem.h"
#include "router.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

void AdminRoutes::add(bh::verb method, std::string path, AdminHandler handler) {
  routes_.push_back({method, std::move(path), false, std::move(handler)});
}

void AdminRoutes::add_prefix(bh::verb method, std::string prefix, AdminHandler handler) {
  routes_.push_back({method, std::move(prefix), true, std::move(handler)});
}

Response AdminRoutes::dispatch(ServerContext& ctx, Request& req, std::string_view path,
                               const control::Principal& principal) const {
  const Route* best = nullptr;
  std::string allow;
  std::size_t best_len = 0;
  for (const auto& r : routes_) {
    const bool hit = r.prefix ? path.starts_with(r.path) : path == r.path;
    if (!hit) continue;
    const bool head_as_get = req.method() == bh::verb::head && r.method == bh::verb::get;
    if (r.method != req.method() && !head_as_get) {
      const std::string_view name = bh::to_string(r.method);
      if (allow.find(name) == std::string::npos) allow += (allow.empty() ? "" : ", ") + std::string(name);
      continue;
    }
    if (!best || r.path.size() > best_len) {
      best = &r;
      best_len = r.path.size();
    }
  }
  if (!best && allow.empty())
    return problem_response(bh::status::not_found, "not-found", "Not found",
                            fmt::format("no resource at {}", path));
  if (!best) return method_not_allowed(req, allow);
  auto query = parse_query(req.target());
  if (!query)
    return problem_response(bh::status::bad_request, "bad-request", "Bad request",
                            "malformed percent-escape in the query");
  const std::string_view rest = best->prefix ? path.substr(best->path.size()) : std::string_view{};
  return best->handler(AdminRequest{ctx, req, path, rest, *query, principal});
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view target) {
  std::map<std::string, std::string> out;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    // target_path decodes percent-escapes but stops at a '?', which a query value may hold.
    auto decode = [](std::string_view part) {
      std::string escaped;
      for (char c : part) c == '?' ? escaped += "%3F" : escaped += c;
      return target_path(escaped);
    };
    auto name = decode(pair.substr(0, eq));
    auto value = decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out[std::move(*name)] = std::move(*value);
  }
  return out;
}

}  // namespace evmesh::http
