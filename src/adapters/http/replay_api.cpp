#include "replay_api.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "json_body.h"
#include "problem.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

Result<ReplayFrom> replay_from(const nlohmann::json& body) {
  for (const auto& [name, _] : body.items())
    if (name != "from")
      return fail(Errc::invalid_format,
                  fmt::format("unknown property \"{}\" (known: from)", name.substr(0, 64)), "");
  auto it = body.find("from");
  if (it == body.end() || !it->is_string())
    return fail(Errc::invalid_format, "from must be \"oldest\" or an RFC 3339 time", "from");
  auto from = ReplayFrom::parse(it->get<std::string>());
  if (!from) return fail(Errc::invalid_format, "from " + from.error().message, "from");
  return from;
}

}  // namespace

Response handle_replay(ServerContext& ctx, Request& req, std::string_view sub) {
  if (req.method() != bh::verb::post) return method_not_allowed(req, "POST");
  auto body = json_object_body(req);
  if (!body) return problem_response(body.error());
  auto from = replay_from(*body);
  if (!from) return problem_response(from.error());
  auto offset = ctx.runtime.replay(sub, *from);
  if (!offset) return problem_response(offset.error());
  return json_response(bh::status::ok, {{"id", sub}, {"from", from->text}, {"offset", *offset}});
}

}  // namespace evmesh::http
