#include "adapters/http/webhook_response_parser.h"

#include <boost/beast/http/error.hpp>

#include "adapters/http/webhook_connect.h"

namespace evmesh::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string read_error_text(beast::error_code ec, const WebhookConfig& config) {
  if (ec == beast::error::timeout)
    return "timed out after " + ms_text(config.timeout) + " waiting for the response from " + config.authority;
  if (ec == bhttp::error::end_of_stream) return "connection closed by " + config.authority + " before a response";
  if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category())
    return "bad response from " + config.authority + ": " + ec.message();
  return "read from " + config.authority + " failed: " + ec.message();
}

}  // namespace evmesh::http
