#include "admin_api.h"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evmesh/codec/json_format.h"
#include "evmesh/filter/cesql.h"
#include "evmesh/filter/filter.h"
#include "evmesh/filter/match_context.h"
#include "json_body.h"
#include "problem.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

// The body as a JSON object holding every member in `required`.
Result<nlohmann::json> admin_body(const Request& req, std::initializer_list<std::string_view> required) {
  auto body = json_object_body(req);
  if (!body) return body;
  for (auto name : required)
    if (!body->contains(name))
      return fail(Errc::invalid_format, fmt::format("the body has no '{}' member", name),
                  std::string(name));
  return body;
}

// The `event` member as a CloudEvent; errors point at "event.<attribute>".
Result<EventPtr> body_event(const nlohmann::json& body) {
  const auto& object = body.at("event");
  if (!object.is_object())
    return fail(Errc::invalid_event, "event: must be a CloudEvent in the JSON format (an object)",
                "event");
  auto ev = codec::decode_json_object(object);
  if (!ev) {
    auto err = ev.error();
    err.pointer = err.pointer.empty() ? "event" : "event." + err.pointer;
    if (!err.message.starts_with("event")) err.message = "event: " + err.message;
    return std::unexpected(std::move(err));
  }
  return ev;
}

Response filter_test(const Request& req) {
  auto body = admin_body(req, {"filters", "event"});
  if (!body) return problem_response(body.error());
  auto filters = filter::parse_filters(body->at("filters"), "filters");
  if (!filters) return problem_response(filters.error());
  auto ev = body_event(*body);
  if (!ev) return problem_response(ev.error());
  filter::MatchContext ctx(**ev);
  return json_response(bh::status::ok, {{"matches", filter::matches_all(*filters, ctx)}});
}

std::string_view type_name(cesql::Type t) {
  switch (t) {
    case cesql::Type::integer: return "Integer";
    case cesql::Type::string: return "String";
    case cesql::Type::boolean: return "Boolean";
  }
  return "Unknown";
}

// "at position 12: ..." -> 12 (the compiler's convention, see cesql.h).
std::optional<std::size_t> error_position(std::string_view message) {
  constexpr std::string_view kAt = "at position ";
  const auto at = message.find(kAt);
  if (at == std::string_view::npos) return std::nullopt;
  const char* first = message.data() + at + kAt.size();
  std::size_t pos = 0;
  auto [end, ec] = std::from_chars(first, message.data() + message.size(), pos);
  if (ec != std::errc{} || end == first) return std::nullopt;
  return pos;
}

Response cesql_eval(const Request& req) {
  auto body = admin_body(req, {"expression", "event"});
  if (!body) return problem_response(body.error());
  const auto& text = body->at("expression");
  if (!text.is_string())
    return problem_response(Error::make(Errc::invalid_format, "expression: must be a string", "expression"));
  auto expr = cesql::compile(text.get_ref<const std::string&>());
  if (!expr) {
    auto err = expr.error();
    err.message = "expression: " + err.message;
    err.pointer = "expression";
    auto res = problem_response(err);
    if (auto pos = error_position(expr.error().message)) {
      auto problem = nlohmann::json::parse(res.body());
      problem["position"] = *pos;
      res.body() = problem.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      res.prepare_payload();
    }
    return res;
  }
  auto ev = body_event(*body);
  if (!ev) return problem_response(ev.error());
  filter::MatchContext ctx(**ev);
  const auto result = cesql::evaluate(**expr, **ev, cesql::uses_data(**expr) ? ctx.json() : nullptr);
  nlohmann::json value;
  std::visit([&](const auto& v) { value = v; }, result.value.v);
  auto errors = nlohmann::json::array();
  for (const auto& e : result.errors)
    errors.push_back({{"kind", cesql::to_string(e.kind)}, {"message", e.message}});
  return json_response(bh::status::ok,
                       {{"value", std::move(value)}, {"type", type_name(result.value.type())},
                        {"errors", std::move(errors)}});
}

}  // namespace

Response handle_admin(ServerContext&, Request& req, std::string_view path) {
  Response (*handler)(const Request&) = nullptr;
  if (path == "/admin/filter/test") handler = filter_test;
  else if (path == "/admin/cesql/eval") handler = cesql_eval;
  if (!handler)
    return problem_response(bh::status::not_found, "not-found", "Not found",
                            fmt::format("no resource at {}", path));
  if (req.method() != bh::verb::post) return method_not_allowed(req, "POST");
  return handler(req);
}

}  // namespace evmesh::http
