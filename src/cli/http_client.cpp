#include "http_client.h"

#include <charconv>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace evmesh::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;

Result<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme))
    return fail(Errc::invalid_format, "--url: must start with http:// (got '" + std::string(url) + "')");
  url.remove_prefix(kScheme.size());
  Endpoint ep;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    ep.base = std::string(url.substr(slash));
    while (!ep.base.empty() && ep.base.back() == '/') ep.base.pop_back();
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(Errc::invalid_format, "--url: unclosed '[' in the host");
    ep.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) port_text = authority.substr(1);
    else if (!authority.empty()) return fail(Errc::invalid_format, "--url: junk after the host");
  } else {
    const auto colon = authority.rfind(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (ep.host.empty()) return fail(Errc::invalid_format, "--url: no host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return fail(Errc::invalid_format, "--url: bad port '" + std::string(port_text) + "'");
    ep.port = static_cast<std::uint16_t>(port);
  }
  return ep;
}

Result<HttpReply> send(const Endpoint& to, std::string_view method, std::string_view path,
                       const std::string* json_body, std::chrono::seconds timeout,
                       std::string_view content_type) {
  const std::string where = "http://" + to.host + ":" + std::to_string(to.port);
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    beast::error_code ec;
    auto addresses = resolver.resolve(to.host, std::to_string(to.port), ec);
    if (ec) return fail(Errc::internal, "cannot resolve " + to.host + ": " + ec.message());
    stream.expires_after(timeout);
    stream.connect(addresses, ec);
    if (ec) return fail(Errc::internal, "cannot connect to " + where + ": " + ec.message());

    bh::request<bh::string_body> req{bh::string_to_verb(method), to.base + std::string(path), 11};
    req.set(bh::field::host, to.host + ":" + std::to_string(to.port));
    req.set(bh::field::user_agent, "evmeshctl");
    req.set(bh::field::accept, "application/json, application/problem+json");
    if (!to.authorization.empty()) req.set(bh::field::authorization, to.authorization);
    if (json_body) {
      req.set(bh::field::content_type, content_type);
      req.body() = *json_body;
    }
    req.prepare_payload();
    bh::write(stream, req, ec);
    if (ec) return fail(Errc::internal, "sending to " + where + ": " + ec.message());

    beast::flat_buffer buffer;
    bh::response_parser<bh::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    bh::read(stream, buffer, parser, ec);
    if (ec) return fail(Errc::internal, "reading the reply from " + where + ": " + ec.message());
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);

    auto res = parser.release();
    return HttpReply{res.result_int(), std::string(res[bh::field::content_type]), std::move(res.body())};
  } catch (const std::exception& e) {  // boundary: a CLI turns anything into a message
    return fail(Errc::internal, "talking to " + where + ": " + e.what());
  }
}

}  // namespace evmesh::cli
