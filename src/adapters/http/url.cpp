// Sink URL parsing: absolute http URLs only, as RFC 3986 authority + path.
//
//   "http://127.0.0.1:9000/hook?x=1"  -> host 127.0.0.1, port 9000, target "/hook?x=1"
//   "HTTP://Example.COM"              -> host example.com, port 80, target "/"
//   "http://[::1]:8080/a#frag"        -> host ::1 (brackets dropped), target "/a"
//   "https://..."                     -> refused until TLS sinks land
//
// Userinfo is refused: credentials in a sink URI would end up in logs and in the
// Subscriptions API; custom headers are the way to authenticate.
#include "adapters/http/url.h"

#include <algorithm>
#include <charconv>

namespace evmesh::http {
namespace {

constexpr std::string_view kPointer = "sink";

std::unexpected<Error> bad(std::string msg) {
  return fail(Errc::invalid_subscription, "sink: " + std::move(msg), std::string(kPointer));
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), lower);
  return out;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool valid_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  return std::ranges::all_of(s, [](char c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; });
}

// A DNS name or IPv4 literal: letters, digits, '-', '.', '_' (seen in service names).
bool valid_reg_name(std::string_view s) {
  return std::ranges::all_of(s, [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'; });
}

// The inside of "[...]": hex digits, ':' and '.' (an embedded IPv4). No zone ids.
bool valid_ipv6(std::string_view s) {
  if (s.find(':') == std::string_view::npos) return false;
  return std::ranges::all_of(s, [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

bool valid_target_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f;  // no spaces, controls or raw non-ASCII
}

}  // namespace

std::string Url::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != 80) out += ":" + std::to_string(port);
  return out;
}

Result<Url> parse_url(std::string_view text) {
  if (text.empty()) return bad("URL is empty");
  if (std::ranges::any_of(text, [](char c) { return !valid_target_char(c); }))
    return bad("URL contains whitespace, control or non-ASCII characters");

  auto colon = text.find(':');
  if (colon == std::string_view::npos || !valid_scheme(text.substr(0, colon)))
    return bad("'" + std::string(text) + "' is not an absolute URL");
  Url url;
  url.scheme = to_lower(text.substr(0, colon));
  if (url.scheme == "https") return bad("scheme 'https' refused: TLS sinks are not supported yet");
  if (url.scheme != "http") return bad("scheme '" + url.scheme + "' is not supported (use http)");

  auto rest = text.substr(colon + 1);
  if (!rest.starts_with("//")) return bad("URL has no authority (expected http://host[:port]/path)");
  rest.remove_prefix(2);

  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  auto tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return bad("user info in the URL is not supported");

  std::string_view host, port;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("IPv6 address is missing ']'");
    host = authority.substr(1, close - 1);
    if (!valid_ipv6(host)) return bad("host '[" + std::string(host) + "]' is not a valid IPv6 address");
    auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":"))
      return bad("unexpected '" + std::string(after) + "' after the IPv6 address");
    if (!after.empty()) port = after.substr(1);
  } else {
    auto pc = authority.find(':');
    host = authority.substr(0, pc);
    if (pc != std::string_view::npos) port = authority.substr(pc + 1);
    if (!host.empty() && !valid_reg_name(host))
      return bad("host '" + std::string(host) + "' contains invalid characters");
  }
  if (host.empty()) return bad("host is missing");
  url.host = to_lower(host);

  if (!port.empty()) {  // RFC 3986 allows "host:" with an empty port: the default
    if (!std::ranges::all_of(port, is_digit)) return bad("port '" + std::string(port) + "' is not a number");
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535)
      return bad("port " + std::string(port) + " is out of range (1-65535)");
    url.port = static_cast<std::uint16_t>(value);
  }

  tail = tail.substr(0, tail.find('#'));  // the fragment never goes on the wire
  url.target = tail.starts_with("/") ? std::string(tail) : "/" + std::string(tail);
  return url;
}

}  // namespace evmesh::http
