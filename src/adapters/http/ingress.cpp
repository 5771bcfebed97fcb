#include "ingress.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "evmesh/codec/http_binding.h"
#include "problem.h"
#include "router.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

std::vector<std::pair<std::string, std::string>> binding_headers(const bh::fields& fields) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : fields) {
    if (f.name() == bh::field::content_type) continue;
    std::string name(f.name_string());
    std::ranges::transform(name, name.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
    out.emplace_back(std::move(name), std::string(f.value()));
  }
  return out;
}

BodyLimit ingress_body_limit(const control::HttpListenerConfig& config, const bh::fields& fields) {
  const auto content_type = fields[bh::field::content_type];
  // Only the media type decides batch mode; no need to copy the other headers.
  auto mode = codec::detect_mode(content_type, {});
  if (mode && *mode == codec::HttpMode::batch) return {config.max_batch_bytes, "max_batch_bytes"};
  return {config.max_event_bytes, "max_event_bytes"};
}

std::optional<Response> handle_ingress(ServerContext& ctx, Request& req,
                                       const control::Principal& who, Later& later) {
  const std::string content_type(req[bh::field::content_type]);
  const auto headers = binding_headers(req.base());
  auto mode = codec::detect_mode(content_type, headers);
  if (!mode) return problem_response(mode.error());

  auto events = codec::decode_http(content_type, headers, std::move(req.body()));
  if (!events) return problem_response(events.error());

  if (*mode == codec::HttpMode::batch) {
    const auto max = ctx.config.max_event_bytes;
    for (std::size_t i = 0; i < events->size(); ++i) {
      const auto size = (*events)[i]->approximate_size();
      if (size > max) {
        return problem_response(Error::make(
            Errc::too_large,
            fmt::format("event {} of the batch is {} bytes, over max_event_bytes ({})", i, size, max),
            fmt::format("/{}", i)));
      }
    }
  }

  if (ctx.access)
    if (auto allowed = ctx.access->authorize_publish(who, *events); !allowed)
      return problem_response(allowed.error());

  // A durable subscription matched: 202 once the store committed the events.
  auto defer = [&later]() -> Runtime::PublishCallback {
    return [reply = later.take()](Result<PublishReceipt> r) {
      reply(r ? empty_response(bh::status::accepted) : problem_response(r.error()));
    };
  };
  auto receipt = ctx.runtime.publish(*events, defer);
  if (!receipt) return std::nullopt;
  if (!*receipt) return problem_response(receipt->error());
  ctx.log->trace("published {} event(s), {} deliveries queued", (*receipt)->events,
                 (*receipt)->deliveries);
  return empty_response(bh::status::accepted);
}

}  // namespace evmesh::http
