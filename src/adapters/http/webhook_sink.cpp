// WebhookSinkFactory validates a SinkSpec once into an immutable WebhookConfig;
// WebhookSink encodes each event on the caller's thread and hands the request to
// an Exchange running on a pooled connection's strand. See webhook_exchange.h for
// the life of one attempt and connection_pool.h for keep-alive reuse.
#include "adapters/http/webhook_sink.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <exception>
#include <optional>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "adapters/http/connection_pool.h"
#include "adapters/http/url.h"
#include "adapters/http/webhook_exchange.h"
#include "adapters/http/webhook_pipeline.h"

namespace evmesh::http {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kUserAgent = "evmesh/0.1";

// Headers the sink itself owns: message framing, connection management and the
// event's own representation. A subscription may not override them.
constexpr std::array<std::string_view, 9> kReservedHeaders = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
    "content-type"};

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; });
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; });
  return out;
}

// RFC 9110 token characters.
bool is_token(std::string_view s) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

// Visible ASCII, obs-text, space and tab; never CR, LF or other controls.
bool is_field_value(std::string_view s) {
  return std::ranges::all_of(s, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

// Request line and fixed fields of every request. A subscription header replaces a
// field of the same name (User-Agent included); of duplicates the last one wins.
std::string request_head(const WebhookConfig& c) {
  const auto same = [](std::string_view a, std::string_view b) { return to_lower(a) == to_lower(b); };
  const auto replaced_later = [&](std::string_view name, std::size_t after) {
    for (std::size_t i = after; i < c.headers.size(); ++i)
      if (same(c.headers[i].first, name)) return true;
    return false;
  };
  std::string out;
  out.append(bhttp::to_string(c.method)).append(" ").append(c.url.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(c.url.host_header()).append("\r\n");
  if (!replaced_later("user-agent", 0)) out.append("User-Agent: ").append(kUserAgent).append("\r\n");
  for (std::size_t i = 0; i < c.headers.size(); ++i) {
    const auto& [name, value] = c.headers[i];
    if (!replaced_later(name, i + 1)) out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append("Connection: keep-alive\r\n");
  return out;
}

Result<void> check_header(const std::string& name, const std::string& value) {
  constexpr std::string_view kPointer = "protocolsettings.headers";
  auto bad = [&](std::string msg) {
    return fail(Errc::invalid_subscription, "protocolsettings.headers: " + std::move(msg), std::string(kPointer));
  };
  if (!is_token(name)) return bad("'" + name + "' is not a valid header name");
  if (!is_field_value(value)) return bad("value of '" + name + "' contains control characters");
  auto lower = to_lower(name);
  if (std::ranges::find(kReservedHeaders, lower) != kReservedHeaders.end())
    return bad("header '" + name + "' is set by the sink and cannot be overridden");
  if (lower.starts_with("ce-"))
    return bad("header '" + name + "' would override a CloudEvents attribute");
  return {};
}

class WebhookSink final : public Sink {
 public:
  WebhookSink(boost::asio::any_io_executor ex, std::shared_ptr<const WebhookConfig> config)
      : config_(std::move(config)),
        pool_(std::make_shared<ConnectionPool>(ex, idle_cap(*config_))),
        pipeline_(config_->options.pipeline_depth > 1
                      ? std::make_shared<Pipeline>(ex, config_, config_->options.pipeline_depth)
                      : nullptr) {}

  ~WebhookSink() override { close(); }

  // `done` runs on the caller's thread, before send() returns, only when the sink is
  // closed (or the request could not be built); otherwise on a connection strand.
  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    std::shared_ptr<Exchange> exchange;
    try {
      if (pool_->closed()) return done(closed_outcome());
      auto request = build_request(*ev);
      exchange = std::make_shared<Exchange>(config_, pool_, std::move(ev), std::move(request), std::move(done));
    } catch (const std::exception& e) {
      if (done) done(DeliveryOutcome{DeliveryOutcome::Kind::retry, 0, std::string("internal error: ") + e.what(), {}});
      return;
    }
    auto conn = pool_->acquire();
    if (!conn) return exchange->abandon(closed_outcome());
    exchange->start(std::move(conn));
  }

  std::size_t ordered_window() const override { return config_->options.pipeline_depth; }

  void send_ordered(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    if (!pipeline_) return send(std::move(ev), std::move(done));
    std::string request;
    try {
      request = build_request(*ev);
    } catch (const std::exception& e) {
      if (done) done(DeliveryOutcome{DeliveryOutcome::Kind::retry, 0, std::string("internal error: ") + e.what(), {}});
      return;
    }
    pipeline_->send(std::move(ev), std::move(request), std::move(done));
  }

  void close() override {
    pool_->close();
    if (pipeline_) pipeline_->close();
  }

 private:
  // Enough idle connections for every delivery the subscription runs at once, so that
  // delivery.concurrency N does not open and close connections beyond the configured
  // cap; 0 (close after each request) stays 0.
  static std::size_t idle_cap(const WebhookConfig& c) {
    const auto configured = c.options.max_idle_connections;
    return configured == 0 ? 0 : std::max<std::size_t>(configured, c.concurrency);
  }

  static DeliveryOutcome closed_outcome() {
    return DeliveryOutcome{DeliveryOutcome::Kind::retry, 0, "sink closed", {}};
  }

  // The request as it goes on the wire, built as one string: no header field
  // objects, and the pipeline writes it as is.
  std::string build_request(const Event& ev) const {
    std::string out;
    if (config_->mode == codec::HttpMode::binary) {
      // Binary mode, the common case: fields and body go straight into the request.
      const std::size_t body = ev.has_data() ? ev.data()->size() : 0;
      out.reserve(config_->request_head.size() + body + 512);
      out += config_->request_head;
      if (codec::append_binary_fields(ev, out)) {
        append_body(out, ev.has_data() ? std::string_view(*ev.data()) : std::string_view());
        return out;
      }
      out.clear();
    }
    auto msg = codec::encode_http(ev, config_->mode);
    out.reserve(config_->request_head.size() + msg.body.size() + 64 * (msg.headers.size() + 2));
    out += config_->request_head;
    for (const auto& [name, value] : msg.headers) out.append(name).append(": ").append(value).append("\r\n");
    if (!msg.content_type.empty()) out.append("Content-Type: ").append(msg.content_type).append("\r\n");
    append_body(out, msg.body);
    return out;
  }

  // Content-Length (also "0" for an event without data), the blank line, the body.
  static void append_body(std::string& out, std::string_view body) {
    char digits[24];
    const auto length = std::to_chars(std::begin(digits), std::end(digits), body.size());
    out.append("Content-Length: ").append(digits, length.ptr).append("\r\n\r\n").append(body);
  }

  std::shared_ptr<const WebhookConfig> config_;
  std::shared_ptr<ConnectionPool> pool_;
  std::shared_ptr<Pipeline> pipeline_;  // null when pipeline_depth is 1
};

}  // namespace

WebhookSinkFactory::WebhookSinkFactory(boost::asio::any_io_executor ex, WebhookOptions options)
    : ex_(std::move(ex)), options_(options) {}

Result<std::shared_ptr<Sink>> WebhookSinkFactory::make(const SinkSpec& spec) {
  auto url = parse_url(spec.uri);
  if (!url) return std::unexpected(std::move(url.error()));

  if (to_upper(spec.protocol) != "HTTP")
    return fail(Errc::invalid_subscription,
                "protocol: '" + spec.protocol + "' is not supported by the webhook sink (expected HTTP)", "protocol");

  auto config = std::make_shared<WebhookConfig>();
  auto method = to_upper(spec.method);
  if (method == "POST") {
    config->method = bhttp::verb::post;
  } else if (method == "PUT") {
    config->method = bhttp::verb::put;
  } else {
    return fail(Errc::invalid_subscription,
                "protocolsettings.method: '" + spec.method + "' is not supported (use POST or PUT)",
                "protocolsettings.method");
  }
  for (const auto& [name, value] : spec.headers)
    if (auto ok = check_header(name, value); !ok) return std::unexpected(std::move(ok.error()));
  if (spec.timeout <= std::chrono::milliseconds::zero())
    return fail(Errc::invalid_subscription, "delivery.timeout: must be positive", "delivery.timeout");

  config->authority = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  config->authority += ":" + std::to_string(url->port);
  config->url = std::move(*url);
  config->headers = spec.headers;
  config->mode = spec.mode == DeliveryMode::structured ? codec::HttpMode::structured : codec::HttpMode::binary;
  config->timeout = spec.timeout;
  config->concurrency = spec.concurrency;
  config->options = options_;
  config->request_head = request_head(*config);
  return std::make_shared<WebhookSink>(ex_, std::move(config));
}

}  // namespace evmesh::http
