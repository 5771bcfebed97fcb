#include "subscriptions_api.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evmesh/codec/json_format.h"
#include "evmesh/control/subscription_spec.h"
#include "json_body.h"
#include "problem.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

// The caller becomes the owner; refused when its ACL lets it read none of the
// types the subscription can match.
Result<void> take_ownership(ServerContext& ctx, Subscription& sub, const control::Principal& who) {
  sub.owner = who.name;
  if (!ctx.access) return {};
  return ctx.access->authorize_subscription(who, sub);
}

// Creates `sub` (its id set or empty for a generated one): 201 with Location.
Response created_response(ServerContext& ctx, Subscription sub) {
  auto created = ctx.runtime.create(std::move(sub));
  if (!created) return problem_response(created.error());
  ctx.log->debug("subscription {} created (sink {})", created->id, created->sink.uri);
  auto res = json_response(bh::status::created, control::to_json(*created));
  res.set(bh::field::location, "/subscriptions/" + created->id);
  return res;
}

// PUT on an unknown id is an upsert (the spec allows it): the client picks the id.
Response create_with_id(ServerContext& ctx, Subscription sub) {
  if (!control::valid_subscription_id(sub.id))
    return problem_response(Error::make(
        Errc::invalid_subscription,
        "id: must be 1 to 128 characters from A-Z a-z 0-9 - _ . ~", "id"));
  return created_response(ctx, std::move(sub));
}

Response create(ServerContext& ctx, const Request& req, const control::Principal& who) {
  auto body = json_object_body(req);
  if (!body) return problem_response(body.error());
  body->erase("id");  // Subscriptions API: the server assigns the id on create
  auto sub = control::parse_subscription(*body, ctx.delivery_defaults, ctx.sink_defaults);
  if (!sub) return problem_response(sub.error());
  sub->id.clear();
  sub->declared_in_config = false;
  if (auto owned = take_ownership(ctx, *sub, who); !owned) return problem_response(owned.error());
  return created_response(ctx, std::move(*sub));
}

Response replace(ServerContext& ctx, const Request& req, std::string_view id,
                 const control::Principal& who) {
  auto body = json_object_body(req);
  if (!body) return problem_response(body.error());
  if (auto it = body->find("id"); it != body->end()) {
    if (!it->is_string() || it->get<std::string>() != id) {
      return problem_response(Error::make(
          Errc::invalid_subscription,
          fmt::format("id in the body does not match the path ('{}')", id), "id"));
    }
    body->erase(it);
  }
  auto sub = control::parse_subscription(*body, ctx.delivery_defaults, ctx.sink_defaults);
  if (!sub) return problem_response(sub.error());
  sub->id = std::string(id);
  sub->declared_in_config = false;
  if (auto owned = take_ownership(ctx, *sub, who); !owned) return problem_response(owned.error());
  auto existing = ctx.runtime.get(id);
  if (!existing) return create_with_id(ctx, std::move(*sub));
  if (ctx.access)
    if (auto mine = ctx.access->authorize_owner(who, *existing); !mine)
      return problem_response(mine.error());
  auto replaced = ctx.runtime.replace(id, std::move(*sub));
  if (!replaced) return problem_response(replaced.error());
  ctx.log->debug("subscription {} replaced (sink {})", replaced->id, replaced->sink.uri);
  return json_response(bh::status::ok, control::to_json(*replaced));
}

Error unknown(std::string_view id) {
  return Error::make(Errc::not_found, fmt::format("no subscription with id '{}'", id));
}

}  // namespace

Response handle_subscriptions(ServerContext& ctx, Request& req, const control::Principal& who) {
  switch (req.method()) {
    case bh::verb::get: {
      auto array = nlohmann::json::array();
      for (const auto& sub : ctx.runtime.list()) array.push_back(control::to_json(sub));
      return json_response(bh::status::ok, array);
    }
    case bh::verb::post: return create(ctx, req, who);
    default: return method_not_allowed(req, "GET, POST");
  }
}

Response handle_subscription(ServerContext& ctx, Request& req, std::string_view id,
                             const control::Principal& who) {
  switch (req.method()) {
    case bh::verb::get: {
      auto sub = ctx.runtime.get(id);
      if (!sub) return problem_response(unknown(id));
      return json_response(bh::status::ok, control::to_json(*sub));
    }
    case bh::verb::put: return replace(ctx, req, id, who);
    case bh::verb::delete_: {
      if (auto existing = ctx.runtime.get(id); existing && ctx.access)
        if (auto mine = ctx.access->authorize_owner(who, *existing); !mine)
          return problem_response(mine.error());
      auto removed = ctx.runtime.remove(id);
      if (!removed) return problem_response(removed.error());
      ctx.log->debug("subscription {} deleted", id);
      return json_response(bh::status::ok, control::to_json(*removed));  // spec: Delete returns it
    }
    default: return method_not_allowed(req, "GET, PUT, DELETE");
  }
}

}  // namespace evmesh::http
