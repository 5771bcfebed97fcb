// The admin listener's route table (admin.listen, docs/security.md). Every request
// there is authenticated first and must come from one of admin.principals; then the
// table picks the handler by method and path. Modules add their endpoints at start-up:
//
//   AdminRoutes routes;
//   routes.add(bh::verb::get, "/admin/denials", [&](const AdminRequest& r) {
//     return json_response(bh::status::ok, access->denials());
//   });
//   routes.add_prefix(bh::verb::get, "/admin/schemas/", handler);  // r.rest = what follows
//
// Handlers run on the connection's strand and must not block; they build responses
// with problem.h (json_response, problem_response). The table is filled before the
// listener starts and read-only afterwards.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "evmesh/control/auth.h"
#include "server_context.h"

namespace evmesh::http {

struct AdminRequest {
  ServerContext& ctx;
  Request& req;
  std::string_view path;                          // percent-decoded, without the query
  std::string_view rest;                          // add_prefix routes: the path after the prefix
  const std::map<std::string, std::string>& query;  // decoded; a repeated name keeps the last
  const control::Principal& principal;
};

using AdminHandler = std::function<Response(const AdminRequest&)>;

class AdminRoutes {
 public:
  // An exact path.
  void add(boost::beast::http::verb method, std::string path, AdminHandler handler);
  // Every path that starts with `prefix` (longest prefix wins).
  void add_prefix(boost::beast::http::verb method, std::string prefix, AdminHandler handler);

  // 404 for an unknown path, 405 (with Allow) for a known path and another method.
  Response dispatch(ServerContext& ctx, Request& req, std::string_view path,
                    const control::Principal& principal) const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::string path;
    bool prefix;
    AdminHandler handler;
  };
  std::vector<Route> routes_;
};

// The query of a request target, percent-decoded; nullopt when an escape is malformed.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view target);

}  // namespace evmesh::http
