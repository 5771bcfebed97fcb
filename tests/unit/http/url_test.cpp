// Sink URL parsing and the webhook factory's validation of a SinkSpec.
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "adapters/http/url.h"
#include "adapters/http/webhook_sink.h"

namespace evmesh::http {
namespace {

Url ok(std::string_view text) {
  auto url = parse_url(text);
  EXPECT_TRUE(url.has_value()) << text << ": " << url.error().message;
  return url.value_or(Url{});
}

std::string error_of(std::string_view text) {
  auto url = parse_url(text);
  if (url) {
    ADD_FAILURE() << text << " parsed";
    return {};
  }
  EXPECT_EQ(url.error().code, Errc::invalid_subscription);
  EXPECT_EQ(url.error().pointer, "sink");
  return url.error().message;
}

TEST(ParseUrl, HostPortAndTarget) {
  auto u = ok("http://127.0.0.1:9000/hook?x=1&y=%20");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.target, "/hook?x=1&y=%20");
  EXPECT_EQ(u.host_header(), "127.0.0.1:9000");
}

TEST(ParseUrl, Defaults) {
  auto u = ok("http://example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "example.com");
  EXPECT_EQ(ok("http://example.com?q=1").target, "/?q=1");
  EXPECT_EQ(ok("http://example.com:/a").port, 80);  // empty port: the default
}

TEST(ParseUrl, SchemeAndHostAreCaseInsensitive) {
  auto u = ok("HTTP://Example.COM/Path");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.target, "/Path");
}

TEST(ParseUrl, FragmentIsDropped) {
  EXPECT_EQ(ok("http://h/a?b=c#frag").target, "/a?b=c");
  EXPECT_EQ(ok("http://h#frag").target, "/");
}

TEST(ParseUrl, Ipv6Literal) {
  auto u = ok("http://[::1]:8080/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.host_header(), "[::1]:8080");
  EXPECT_EQ(ok("http://[2001:db8::7]").host_header(), "[2001:db8::7]");
}

TEST(ParseUrl, Errors) {
  EXPECT_EQ(error_of(""), "sink: URL is empty");
  EXPECT_EQ(error_of("ftp://h/x"), "sink: scheme 'ftp' is not supported (use http)");
  EXPECT_EQ(error_of("https://h/x"), "sink: scheme 'https' refused: TLS sinks are not supported yet");
  EXPECT_EQ(error_of("/relative/path"), "sink: '/relative/path' is not an absolute URL");
  EXPECT_EQ(error_of("localhost:8080"), "sink: scheme 'localhost' is not supported (use http)");
  EXPECT_EQ(error_of("http:/h/x"), "sink: URL has no authority (expected http://host[:port]/path)");
  EXPECT_EQ(error_of("http:///x"), "sink: host is missing");
  EXPECT_EQ(error_of("http://:80/x"), "sink: host is missing");
  EXPECT_EQ(error_of("http://h:0/"), "sink: port 0 is out of range (1-65535)");
  EXPECT_EQ(error_of("http://h:65536/"), "sink: port 65536 is out of range (1-65535)");
  EXPECT_EQ(error_of("http://h:99999999999999999999/"), "sink: port 99999999999999999999 is out of range (1-65535)");
  EXPECT_EQ(error_of("http://h:abc/"), "sink: port 'abc' is not a number");
  EXPECT_EQ(error_of("http://h:-1/"), "sink: port '-1' is not a number");
  EXPECT_EQ(error_of("http://user:pw@h/"), "sink: user info in the URL is not supported");
  EXPECT_EQ(error_of("http://h_%41/"), "sink: host 'h_%41' contains invalid characters");
  EXPECT_EQ(error_of("http://[::1/"), "sink: IPv6 address is missing ']'");
  EXPECT_EQ(error_of("http://[zz::1]/"), "sink: host '[zz::1]' is not a valid IPv6 address");
  EXPECT_EQ(error_of("http://[::1]x/"), "sink: unexpected 'x' after the IPv6 address");
  EXPECT_EQ(error_of("http://h/a b"), "sink: URL contains whitespace, control or non-ASCII characters");
  EXPECT_EQ(error_of("http://h/\r\nX: y"), "sink: URL contains whitespace, control or non-ASCII characters");
}

class WebhookFactoryTest : public ::testing::Test {
 protected:
  Error make_error(SinkSpec spec) {
    WebhookSinkFactory factory(io_.get_executor(), {});
    auto sink = factory.make(spec);
    if (sink) {
      ADD_FAILURE() << spec.uri << " accepted";
      return {};
    }
    EXPECT_EQ(sink.error().code, Errc::invalid_subscription);
    return sink.error();
  }
  boost::asio::io_context io_;
};

TEST_F(WebhookFactoryTest, AcceptsAValidSpec) {
  WebhookSinkFactory factory(io_.get_executor(), {});
  auto sink = factory.make(SinkSpec{.uri = "http://localhost:8080/hook", .method = "put",
                                    .headers = {{"Authorization", "Bearer x"}}});
  ASSERT_TRUE(sink.has_value()) << sink.error().message;
  (*sink)->close();
}

TEST_F(WebhookFactoryTest, RefusesHttpsWithAClearMessage) {
  auto e = make_error(SinkSpec{.uri = "https://example.com/hook"});
  EXPECT_EQ(e.pointer, "sink");
  EXPECT_NE(e.message.find("TLS sinks are not supported yet"), std::string::npos) << e.message;
}

TEST_F(WebhookFactoryTest, RefusesBadUrl) {
  auto e = make_error(SinkSpec{.uri = "http://h:70000/"});
  EXPECT_EQ(e.pointer, "sink");
  EXPECT_EQ(e.message, "sink: port 70000 is out of range (1-65535)");
}

TEST_F(WebhookFactoryTest, RefusesOtherProtocols) {
  auto e = make_error(SinkSpec{.uri = "http://h/", .protocol = "MQTT"});
  EXPECT_EQ(e.pointer, "protocol");
  EXPECT_EQ(e.message, "protocol: 'MQTT' is not supported by the webhook sink (expected HTTP)");
}

TEST_F(WebhookFactoryTest, RefusesMethodsOtherThanPostAndPut) {
  auto e = make_error(SinkSpec{.uri = "http://h/", .method = "GET"});
  EXPECT_EQ(e.pointer, "protocolsettings.method");
  EXPECT_EQ(e.message, "protocolsettings.method: 'GET' is not supported (use POST or PUT)");
}

TEST_F(WebhookFactoryTest, RefusesBadOrReservedHeaders) {
  auto e = make_error(SinkSpec{.uri = "http://h/", .headers = {{"X-Ok", "a\r\nInjected: 1"}}});
  EXPECT_EQ(e.pointer, "protocolsettings.headers");
  EXPECT_EQ(e.message, "protocolsettings.headers: value of 'X-Ok' contains control characters");
  EXPECT_EQ(make_error(SinkSpec{.uri = "http://h/", .headers = {{"Bad Name", "v"}}}).message,
            "protocolsettings.headers: 'Bad Name' is not a valid header name");
  EXPECT_EQ(make_error(SinkSpec{.uri = "http://h/", .headers = {{"Content-Length", "5"}}}).message,
            "protocolsettings.headers: header 'Content-Length' is set by the sink and cannot be overridden");
  EXPECT_EQ(make_error(SinkSpec{.uri = "http://h/", .headers = {{"ce-id", "x"}}}).message,
            "protocolsettings.headers: header 'ce-id' would override a CloudEvents attribute");
}

TEST_F(WebhookFactoryTest, RefusesNonPositiveTimeout) {
  auto e = make_error(SinkSpec{.uri = "http://h/", .timeout = std::chrono::milliseconds(0)});
  EXPECT_EQ(e.pointer, "delivery.timeout");
}

}  // namespace
}  // namespace evmesh::http
