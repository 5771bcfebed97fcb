#include "json_body.h"

#include <fmt/format.h>

#include "evmesh/codec/json_format.h"

namespace evmesh::http {

Result<nlohmann::json> json_object_body(const Request& req) {
  const auto content_type = req[boost::beast::http::field::content_type];
  if (!content_type.empty() && !codec::is_json_media_type(content_type)) {
    return fail(Errc::unsupported_media,
                fmt::format("Content-Type '{}' is not JSON; send application/json",
                            std::string_view(content_type)));
  }
  auto body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return fail(Errc::invalid_format, "the body is not valid JSON");
  if (!body.is_object()) return fail(Errc::invalid_format, "the body must be a JSON object");
  return body;
}

}  // namespace evmesh::http
