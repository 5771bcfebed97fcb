#include "ingress.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include <boost/container/small_vector.hpp>
#include <fmt/format.h>

#include "evmesh/codec/http_binding.h"
#include "problem.h"
#include "publish_wait.h"
#include "router.h"

namespace evmesh::http {

namespace bh = boost::beast::http;

namespace {

// The request's header fields as the codec reads them, by reference, with the
// (first) Content-Type apart: one pass over the fields, no lookup by name. Room for a
// typical request without allocating.
struct BindingFields {
  std::string_view content_type;
  boost::container::small_vector<codec::HeaderView, 24> headers;
};

BindingFields binding_fields(const bh::fields& fields) {
  BindingFields out;
  bool have_content_type = false;
  for (const auto& f : fields) {
    const auto value = f.value();
    if (f.name() == bh::field::content_type) {
      if (!std::exchange(have_content_type, true)) out.content_type = std::string_view(value.data(), value.size());
      continue;
    }
    const auto name = f.name_string();
    out.headers.emplace_back(std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size()));
  }
  return out;
}

}  // namespace

BodyLimit ingress_body_limit(const control::HttpListenerConfig& config, const bh::fields& fields) {
  // The first Content-Type, found by its field code: a walk over a few fields costs
  // less than fields[] (a case-insensitive search by name).
  boost::beast::string_view content_type;
  for (const auto& f : fields)
    if (f.name() == bh::field::content_type) {
      content_type = f.value();
      break;
    }
  // Only the media type decides batch mode.
  if (codec::is_batch_content_type(std::string_view(content_type.data(), content_type.size())))
    return {config.max_batch_bytes, "max_batch_bytes"};
  return {config.max_event_bytes, "max_event_bytes"};
}

std::optional<Response> handle_ingress(ServerContext& ctx, Request& req,
                                       const control::Principal& who, Later& later) {
  const auto fields = binding_fields(req.base());
  // Detects the mode first: an unsupported one is refused with its own error.
  auto events = codec::decode_http_fields(fields.content_type, fields.headers, std::move(req.body()));
  if (!events) return problem_response(events.error());

  if (codec::is_batch_content_type(fields.content_type)) {
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

  auto defer = [&later] { return reply_when_committed(later.take()); };
  auto receipt = ctx.runtime.publish(*events, defer);
  if (!receipt) return std::nullopt;
  if (!*receipt) {
    if (receipt->error().code != Errc::overloaded || ctx.config.publish_wait.count() == 0)
      return problem_response(receipt->error());
    wait_for_room(ctx, later.executor(), std::move(*events), std::move(receipt->error()), later.take());
    return std::nullopt;
  }
  ctx.log->trace("published {} event(s), {} deliveries queued", (*receipt)->events,
                 (*receipt)->deliveries);
  return empty_response(bh::status::accepted);
}

}  // namespace evmesh::http
