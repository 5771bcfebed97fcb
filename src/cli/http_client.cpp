#include "http_client.h"

#include <charconv>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace evmesh::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint ep;
  if (url.starts_with("https://")) {
    ep.tls = true;
    ep.port = 443;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return fail(Errc::invalid_format,
                "--url: must start with http:// or https:// (got '" + std::string(url) + "')");
  }
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

namespace {

// One request and its reply on a connected (and, for TLS, handshaken) stream.
template <typename Stream>
Result<HttpReply> exchange(Stream& stream, bh::request<bh::string_body>& req, const std::string& where) {
  beast::error_code ec;
  bh::write(stream, req, ec);
  if (ec) return fail(Errc::internal, "sending to " + where + ": " + ec.message());
  beast::flat_buffer buffer;
  bh::response_parser<bh::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bh::read(stream, buffer, parser, ec);
  if (ec) return fail(Errc::internal, "reading the reply from " + where + ": " + ec.message());
  auto res = parser.release();
  return HttpReply{res.result_int(), std::string(res[bh::field::content_type]), std::move(res.body())};
}

}  // namespace

Result<HttpReply> send(const Endpoint& to, std::string_view method, std::string_view path,
                       const std::string* json_body, std::chrono::seconds timeout,
                       std::string_view content_type) {
  const std::string where = (to.tls ? "https://" : "http://") + to.host + ":" + std::to_string(to.port);
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream tcp(io);
    beast::error_code ec;
    auto addresses = resolver.resolve(to.host, std::to_string(to.port), ec);
    if (ec) return fail(Errc::internal, "cannot resolve " + to.host + ": " + ec.message());
    tcp.expires_after(timeout);
    tcp.connect(addresses, ec);
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
    if (!to.tls) return exchange(tcp, req, where);

    namespace ssl = asio::ssl;
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_peer);
    if (to.ca_file.empty()) ctx.set_default_verify_paths(ec);
    else ctx.load_verify_file(to.ca_file, ec);
    if (ec) return fail(Errc::internal, "--cacert: cannot load '" + to.ca_file + "': " + ec.message());
    if (!to.cert_file.empty()) {
      ctx.use_certificate_chain_file(to.cert_file, ec);
      if (ec) return fail(Errc::internal, "--cert: cannot load '" + to.cert_file + "': " + ec.message());
      ctx.use_private_key_file(to.key_file.empty() ? to.cert_file : to.key_file, ssl::context::pem, ec);
      if (ec) return fail(Errc::internal, "--key: cannot load the client key: " + ec.message());
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), ctx);
    stream.set_verify_callback(ssl::host_name_verification(to.host));
    boost::system::error_code not_ip;
    asio::ip::make_address(to.host, not_ip);
    if (not_ip) SSL_set_tlsext_host_name(stream.native_handle(), to.host.c_str());  // SNI
    stream.handshake(ssl::stream_base::client, ec);
    if (ec) return fail(Errc::internal, "TLS handshake with " + where + " failed: " + ec.message());
    return exchange(stream, req, where);
  } catch (const std::exception& e) {  // boundary: a CLI turns anything into a message
    return fail(Errc::internal, "talking to " + where + ": " + e.what());
  }
}

}  // namespace evmesh::cli
