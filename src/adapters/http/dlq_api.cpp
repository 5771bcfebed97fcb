#include "dlq_api.h"

#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evmesh/codec/json_format.h"
#include "problem.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

constexpr std::size_t kDefaultLimit = 100, kMaxLimit = 1000;

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The value of `name` in the request target's query; nullopt when absent.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

Result<std::uint64_t> number(std::string_view text, std::string_view what) {
  if (auto v = parse_u64(text)) return *v;
  return fail(Errc::invalid_format,
              fmt::format("{} must be a decimal integer, got \"{}\"", what, text), std::string(what));
}

nlohmann::json entry(std::uint64_t id, const Event& ev) {
  return {{"id", id}, {"event", codec::to_json(ev)}};
}

Response list(ServerContext& ctx, const Request& req, std::string_view sub) {
  std::uint64_t after = 0;
  std::size_t limit = kDefaultLimit;
  if (auto a = query_param(req.target(), "after")) {
    auto v = number(*a, "after");
    if (!v) return problem_response(v.error());
    after = *v;
  }
  if (auto l = query_param(req.target(), "limit")) {
    auto v = number(*l, "limit");
    if (!v) return problem_response(v.error());
    if (*v < 1 || *v > kMaxLimit)
      return problem_response(Error::make(
          Errc::invalid_format, fmt::format("limit must be 1-{}, got {}", kMaxLimit, *v), "limit"));
    limit = *v;
  }
  auto page = ctx.runtime.dead_letters(sub, after, limit);
  if (!page) return problem_response(page.error());
  auto items = nlohmann::json::array();
  for (const auto& dl : *page) items.push_back(entry(dl.offset, *dl.event));
  nlohmann::json next = page->size() == limit ? nlohmann::json(page->back().offset) : nullptr;
  return json_response(bh::status::ok, {{"deadletters", std::move(items)}, {"next", next}});
}

}  // namespace

Response handle_dead_letters(ServerContext& ctx, Request& req, std::string_view path) {
  // {id}/deadletters[/{n}[/redrive]]
  std::string_view rest = path.substr(kDeadLetterPrefix.size());
  const auto slash = rest.find('/');
  const std::string_view sub = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? "" : rest.substr(slash);
  auto not_found = [&] {
    return problem_response(bh::status::not_found, "not-found", "Not found",
                            fmt::format("no resource at {}", path));
  };
  if (sub.empty() || !rest.starts_with("/deadletters")) return not_found();
  rest.remove_prefix(std::string_view("/deadletters").size());
  if (rest.empty() || rest == "/") {
    if (req.method() != bh::verb::get) return method_not_allowed(req, "GET");
    return list(ctx, req, sub);
  }
  rest.remove_prefix(1);
  const auto action_at = rest.find('/');
  auto id = number(rest.substr(0, action_at), "dead letter id");
  if (!id) return problem_response(id.error());
  if (action_at != std::string_view::npos) {
    if (rest.substr(action_at) != "/redrive") return not_found();
    if (req.method() != bh::verb::post) return method_not_allowed(req, "POST");
    if (auto r = ctx.runtime.redrive(sub, *id); !r) return problem_response(r.error());
    return json_response(bh::status::accepted, {{"id", *id}});
  }
  if (req.method() == bh::verb::get) {
    auto ev = ctx.runtime.dead_letter(sub, *id);
    if (!ev) return problem_response(ev.error());
    return json_response(bh::status::ok, entry(*id, **ev));
  }
  if (req.method() == bh::verb::delete_) {
    if (auto r = ctx.runtime.delete_dead_letter(sub, *id); !r) return problem_response(r.error());
    return empty_response(bh::status::no_content);
  }
  return method_not_allowed(req, "GET, DELETE");
}

}  // namespace evmesh::http
