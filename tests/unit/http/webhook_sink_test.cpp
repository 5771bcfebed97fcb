// Webhook sink against a real HTTP server on 127.0.0.1:0 (a small Beast server
// running coroutines on its own io_context thread) that records every request and
// answers from a script: status, headers, delay, close or drop the connection.
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/http/webhook_response.h"
#include "adapters/http/webhook_sink.h"
#include "evmesh/codec/http_binding.h"

namespace evmesh::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Kind = DeliveryOutcome::Kind;

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};
  bool close_after = false;  // close the socket after answering (no "Connection: close")
  bool drop = false;         // read the request, then close without answering
};

struct Recorded {
  int connection = 0;
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;  // in wire order
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (boost::beast::iequals(n, name)) return v;
    return "<absent>";
  }
};

class TestServer {
 public:
  explicit TestServer(const char* address = "127.0.0.1")
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address(address), 0)) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  void script(std::vector<Reply> replies) {
    std::lock_guard lock(mutex_);
    script_ = std::move(replies);
  }
  std::vector<Recorded> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  void hold_until(int n) { hold_ = n; }
  std::vector<std::string> ids() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& r : requests_) out.push_back(r.header("ce-id"));
    return out;
  }
  int connections() const { return connections_; }
  int closed() const { return closed_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, serve(std::move(socket), connections_++), asio::detached);
    }
  }

  // With hold_until(n), reads n requests before answering any: only a client that
  // pipelines gets answers.
  asio::awaitable<void> serve(tcp::socket socket, int id) {
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec;
    for (bool open = true; open;) {
      std::vector<Reply> replies;
      for (int i = 0, n = std::max(1, hold_.load()); i < n; ++i) {
        bhttp::request<bhttp::string_body> req;
        co_await bhttp::async_read(socket, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        replies.push_back(record(req, id));
      }
      if (ec) break;
      for (const auto& reply : replies) {
        if (reply.delay > 0ms) {
          asio::steady_timer timer(io_, reply.delay);
          co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        if (reply.drop) {
          open = false;
          break;
        }
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), 11};
        for (const auto& [n, v] : reply.headers) res.set(n, v);
        res.body() = reply.body;
        res.prepare_payload();
        co_await bhttp::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || reply.close_after) {
          open = false;
          break;
        }
      }
    }
    // Close as HTTP servers do (nginx's lingering close): stop sending, read and
    // discard what the client had already sent until it closes, then close. A plain
    // close with requests unread makes the kernel send a reset, which can discard
    // answers the client has not read yet: a race no real sink test should hang on.
    socket.shutdown(tcp::socket::shutdown_send, ec);
    for (char discard[4096]; !ec;)
      co_await socket.async_read_some(asio::buffer(discard), asio::redirect_error(asio::use_awaitable, ec));
    socket.close(ec);
    ++closed_;
  }

  Reply record(const bhttp::request<bhttp::string_body>& req, int id) {
    Recorded r{id, std::string(req.method_string()), std::string(req.target()), req.body(), {}};
    for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(r));
    if (script_.empty()) return Reply{};
    Reply next = script_.front();
    script_.erase(script_.begin());
    return next;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Reply> script_;
  std::vector<Recorded> requests_;
  std::atomic<int> connections_{0}, closed_{0}, hold_{1};
};

EventPtr make_event(std::string id = "1", std::optional<std::string> data = "hello") {
  EventBuilder b;
  b.set("specversion", "1.0").set("id", std::move(id)).set("source", "/test").set("type", "com.example.test");
  if (data) b.set("datacontenttype", "text/plain").data(std::move(*data));
  auto ev = std::move(b).build();
  EXPECT_TRUE(ev.has_value()) << ev.error().message;
  return *ev;
}

class WebhookSinkTest : public ::testing::Test {
 protected:
  WebhookSinkTest() {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~WebhookSinkTest() override {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  std::shared_ptr<Sink> make_sink(SinkSpec spec, WebhookOptions options = {}) {
    WebhookSinkFactory factory(io_.get_executor(), options);
    auto sink = factory.make(spec);
    EXPECT_TRUE(sink.has_value()) << sink.error().message;
    return sink ? *sink : nullptr;
  }
  std::shared_ptr<Sink> make_sink(const std::string& uri) { return make_sink(SinkSpec{.uri = uri}); }

  static DeliveryOutcome deliver(Sink& sink, EventPtr ev) {
    auto promise = std::make_shared<std::promise<DeliveryOutcome>>();
    auto future = promise->get_future();
    sink.send(std::move(ev), [promise](DeliveryOutcome o) { promise->set_value(std::move(o)); });
    if (future.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "send did not complete";
      return DeliveryOutcome{Kind::permanent, -1, "test timeout", {}};
    }
    return future.get();
  }

  // Sends ids first..first+n-1 with send_ordered (from this thread, in order);
  // returns the outcomes in the order their `done` ran, with the event ids.
  static std::vector<std::pair<std::string, DeliveryOutcome>> deliver_ordered(Sink& sink, int n, int first = 0) {
    struct State {
      std::mutex mutex;
      std::vector<std::pair<std::string, DeliveryOutcome>> got;
      std::promise<void> all;
    };
    auto state = std::make_shared<State>();
    for (int i = first; i < first + n; ++i) {
      sink.send_ordered(make_event(std::to_string(i)), [state, n, id = std::to_string(i)](DeliveryOutcome o) {
        std::lock_guard lock(state->mutex);
        state->got.emplace_back(id, std::move(o));
        if (static_cast<int>(state->got.size()) == n) state->all.set_value();
      });
    }
    if (state->all.get_future().wait_for(10s) != std::future_status::ready) ADD_FAILURE() << "sends did not complete";
    std::lock_guard lock(state->mutex);
    return state->got;
  }
  // Every one of `got` is a retry without a status, in id order 0.., and its error
  // names `cause`.
  static void expect_retried_in_order(const std::vector<std::pair<std::string, DeliveryOutcome>>& got,
                                      std::size_t n, const std::string& cause) {
    ASSERT_EQ(got.size(), n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(got[i].first, std::to_string(i));
      EXPECT_EQ(got[i].second.kind, Kind::retry);
      EXPECT_EQ(got[i].second.status, 0);
      EXPECT_NE(got[i].second.error.find(cause), std::string::npos) << got[i].second.error;
    }
  }
  static std::vector<std::string> id_range(int first, int n) {
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) out.push_back(std::to_string(i));
    return out;
  }
  std::shared_ptr<Sink> pipelined_sink(std::size_t depth, std::string uri = "",
                                       std::chrono::milliseconds timeout = 5s) {
    return make_sink(SinkSpec{.uri = uri.empty() ? server_.url() : uri, .timeout = timeout},
                     WebhookOptions{.pipeline_depth = depth});
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  TestServer server_;
};

TEST_F(WebhookSinkTest, BinaryModeSendsHeadersAndBodyByteForByte) {
  auto sink = make_sink(server_.url("/hook?x=1"));
  EventBuilder b;
  b.set("specversion", "1.0").set("id", "42").set("source", "/shop").set("type", "com.example.order");
  b.set("subject", "say \"hi\" 100% done").set("myext", "v1").set("datacontenttype", "application/octet-stream");
  const std::string data("\0\x01\xff\r\nend", 8);
  b.data(data);
  auto ev = std::move(b).build();
  ASSERT_TRUE(ev.has_value()) << ev.error().message;

  auto out = deliver(*sink, *ev);
  EXPECT_EQ(out.kind, Kind::delivered) << out.error;
  EXPECT_EQ(out.status, 200);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/hook?x=1");
  EXPECT_EQ(r.header("Host"), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(r.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(r.header("Content-Length"), "8");
  EXPECT_EQ(r.header("Connection"), "keep-alive");
  EXPECT_EQ(r.header("ce-specversion"), "1.0");
  EXPECT_EQ(r.header("ce-id"), "42");
  EXPECT_EQ(r.header("ce-source"), "/shop");
  EXPECT_EQ(r.header("ce-type"), "com.example.order");
  EXPECT_EQ(r.header("ce-subject"), "say%20%22hi%22%20100%25%20done");
  EXPECT_EQ(r.header("ce-myext"), "v1");
  EXPECT_EQ(r.header("ce-datacontenttype"), "<absent>");  // it travels as Content-Type
  EXPECT_EQ(r.body, data);
}

TEST_F(WebhookSinkTest, EventWithoutDataSendsEmptyBody) {
  auto sink = make_sink(server_.url());
  EXPECT_EQ(deliver(*sink, make_event("1", std::nullopt)).kind, Kind::delivered);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("Content-Length"), "0");
  EXPECT_EQ(reqs[0].body, "");
}

TEST_F(WebhookSinkTest, StructuredModeSendsTheJsonFormat) {
  auto sink = make_sink(SinkSpec{.uri = server_.url(), .mode = DeliveryMode::structured});
  auto ev = make_event("s-1", "{\"a\":1}");
  EXPECT_EQ(deliver(*sink, ev).kind, Kind::delivered);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("Content-Type").substr(0, 28), "application/cloudevents+json");
  EXPECT_EQ(reqs[0].body, codec::encode_http(*ev, codec::HttpMode::structured).body);
  auto json = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(json["id"], "s-1");
  EXPECT_EQ(json["specversion"], "1.0");
  for (const auto& [name, value] : reqs[0].headers) EXPECT_FALSE(name.starts_with("ce-")) << name;
}

TEST_F(WebhookSinkTest, CustomHeadersAndPut) {
  auto sink = make_sink(SinkSpec{.uri = server_.url("/put"),
                                 .method = "put",
                                 .headers = {{"X-Api-Key", "secret"}, {"User-Agent", "custom/1"}}});
  EXPECT_EQ(deliver(*sink, make_event()).kind, Kind::delivered);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/put");
  EXPECT_EQ(reqs[0].header("X-Api-Key"), "secret");
  EXPECT_EQ(reqs[0].header("User-Agent"), "custom/1");
  EXPECT_EQ(reqs[0].body, "hello");
}

// The request head is built once per sink: a subscription header replaces ours of
// the same name, and of two with the same name the last one counts (as a set would).
TEST_F(WebhookSinkTest, SubscriptionHeadersReplaceFieldsOfTheSameName) {
  auto sink = make_sink(SinkSpec{.uri = server_.url(),
                                 .headers = {{"X-Tag", "a"}, {"user-agent", "custom/1"}, {"x-tag", "b"}}});
  EXPECT_EQ(deliver(*sink, make_event()).kind, Kind::delivered);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  auto count = [&](std::string_view name) {
    return std::ranges::count_if(reqs[0].headers, [&](const auto& h) { return boost::beast::iequals(h.first, name); });
  };
  EXPECT_EQ(count("x-tag"), 1);
  EXPECT_EQ(reqs[0].header("X-Tag"), "b");
  EXPECT_EQ(count("user-agent"), 1);
  EXPECT_EQ(reqs[0].header("User-Agent"), "custom/1");
  EXPECT_EQ(count("host"), 1);
  EXPECT_EQ(count("content-length"), 1);
  EXPECT_EQ(reqs[0].header("Connection"), "keep-alive");
}

TEST_F(WebhookSinkTest, SequentialSendsReuseOneConnection) {
  auto sink = make_sink(server_.url());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(deliver(*sink, make_event(std::to_string(i))).kind, Kind::delivered);
  EXPECT_EQ(server_.connections(), 1);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(reqs[i].header("ce-id"), std::to_string(i));
}

TEST_F(WebhookSinkTest, ReconnectsWhenServerClosedKeepAliveConnection) {
  server_.script({Reply{.close_after = true}});
  auto sink = make_sink(server_.url());
  EXPECT_EQ(deliver(*sink, make_event("1")).kind, Kind::delivered);
  std::this_thread::sleep_for(50ms);  // the FIN reaches the idle pooled connection
  auto out = deliver(*sink, make_event("2"));
  EXPECT_EQ(out.kind, Kind::delivered) << out.error;
  EXPECT_EQ(server_.connections(), 2);
  EXPECT_EQ(server_.requests().size(), 2u);
}

// The server drops the reused connection after reading the request, before any
// response byte: the request is retried once on a fresh connection.
TEST_F(WebhookSinkTest, StalePooledConnectionIsRetriedOnAFreshOne) {
  server_.script({Reply{}, Reply{.drop = true}});
  auto sink = make_sink(server_.url());
  EXPECT_EQ(deliver(*sink, make_event("1")).kind, Kind::delivered);
  auto out = deliver(*sink, make_event("2"));
  EXPECT_EQ(out.kind, Kind::delivered) << out.error;
  EXPECT_EQ(server_.connections(), 2);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].header("ce-id"), "2");
  EXPECT_EQ(reqs[2].connection, 1);
}

TEST_F(WebhookSinkTest, FreshConnectionClosedWithoutResponseIsNotRetried) {
  server_.script({Reply{.drop = true}});
  auto sink = make_sink(server_.url());
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::retry);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.error, "connection closed by 127.0.0.1:" + std::to_string(server_.port()) + " before a response");
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(WebhookSinkTest, ServiceUnavailableWithRetryAfterSeconds) {
  server_.script({Reply{.status = 503, .headers = {{"Retry-After", "3"}}}});
  auto sink = make_sink(server_.url());
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::retry);
  EXPECT_EQ(out.status, 503);
  EXPECT_EQ(out.error, "HTTP 503 Service Unavailable");
  ASSERT_TRUE(out.retry_after.has_value());
  EXPECT_EQ(*out.retry_after, 3000ms);
}

std::string http_date(std::chrono::system_clock::time_point tp) {
  std::time_t t = std::chrono::system_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

TEST_F(WebhookSinkTest, TooManyRequestsWithRetryAfterHttpDate) {
  server_.script({Reply{.status = 429, .headers = {{"Retry-After", http_date(std::chrono::system_clock::now() + 120s)}}}});
  auto sink = make_sink(server_.url());
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::retry);
  EXPECT_EQ(out.status, 429);
  ASSERT_TRUE(out.retry_after.has_value());
  EXPECT_GT(*out.retry_after, 110s);
  EXPECT_LE(*out.retry_after, 120s);
}

TEST_F(WebhookSinkTest, StatusMapping) {
  const std::vector<std::pair<int, Kind>> cases = {
      {200, Kind::delivered}, {202, Kind::delivered}, {204, Kind::delivered}, {408, Kind::retry},
      {429, Kind::retry},     {500, Kind::retry},     {502, Kind::retry},     {404, Kind::permanent},
      {400, Kind::permanent}, {301, Kind::permanent}, {410, Kind::permanent}};
  std::vector<Reply> script;
  for (auto [status, kind] : cases) script.push_back(Reply{.status = status});
  server_.script(script);
  auto sink = make_sink(server_.url());
  for (auto [status, kind] : cases) {
    auto out = deliver(*sink, make_event());
    EXPECT_EQ(out.status, status);
    EXPECT_EQ(out.kind, kind) << status;
    EXPECT_FALSE(out.retry_after.has_value());
  }
  EXPECT_EQ(server_.connections(), 1);  // error statuses keep the connection too
}

TEST_F(WebhookSinkTest, NotFoundIsPermanent) {
  server_.script({Reply{.status = 404, .body = "no such hook"}});
  auto sink = make_sink(server_.url());
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::permanent);
  EXPECT_EQ(out.status, 404);
  EXPECT_EQ(out.error, "HTTP 404 Not Found");
}

TEST_F(WebhookSinkTest, ConnectionRefusedIsRetryWithStatusZero) {
  std::uint16_t port;
  {  // a port nobody listens on: bind, note it, close
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto sink = make_sink("http://127.0.0.1:" + std::to_string(port) + "/");
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::retry);
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.error, "connect to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused");
}

TEST_F(WebhookSinkTest, SlowResponseTimesOut) {
  server_.script({Reply{.delay = 3s}});
  auto sink = make_sink(SinkSpec{.uri = server_.url(), .timeout = 300ms});
  auto start = std::chrono::steady_clock::now();
  auto out = deliver(*sink, make_event());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.kind, Kind::retry);
  EXPECT_EQ(out.status, 0);
  EXPECT_TRUE(out.error.starts_with("timed out after 300 ms")) << out.error;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(WebhookSinkTest, HostNameIsResolved) {
  auto sink = make_sink("http://localhost:" + std::to_string(server_.port()) + "/named");
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::delivered) << out.error;
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("Host"), "localhost:" + std::to_string(server_.port()));
}

TEST_F(WebhookSinkTest, Ipv6Literal) {
  std::unique_ptr<TestServer> v6;
  try {
    v6 = std::make_unique<TestServer>("::1");
  } catch (const std::exception&) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  auto sink = make_sink("http://[::1]:" + std::to_string(v6->port()) + "/six");
  auto out = deliver(*sink, make_event());
  EXPECT_EQ(out.kind, Kind::delivered) << out.error;
  ASSERT_EQ(v6->requests().size(), 1u);
  EXPECT_EQ(v6->requests()[0].header("Host"), "[::1]:" + std::to_string(v6->port()));
}

TEST_F(WebhookSinkTest, LargeResponseBodyIsBoundedAndConnectionNotReused) {
  server_.script({Reply{.body = std::string(2048, 'x')}, Reply{.body = std::string(3000, 'y')}});
  auto sink = make_sink(SinkSpec{.uri = server_.url()}, WebhookOptions{.max_response_bytes = 2048});
  EXPECT_EQ(deliver(*sink, make_event("1")).kind, Kind::delivered);  // at the limit: kept
  EXPECT_EQ(deliver(*sink, make_event("2")).kind, Kind::delivered);  // over it: status counts, connection dropped
  EXPECT_EQ(deliver(*sink, make_event("3")).kind, Kind::delivered);
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(WebhookSinkTest, ConcurrentSendsFromSeveralThreads) {
  auto sink = make_sink(server_.url());
  constexpr int kThreads = 4, kPerThread = 25;
  std::atomic<int> delivered{0}, completed{0};
  std::promise<void> all_done;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        sink->send(make_event(std::to_string(t * 1000 + i)), [&](DeliveryOutcome o) {
          if (o.kind == Kind::delivered) ++delivered;
          if (++completed == kThreads * kPerThread) all_done.set_value();
        });
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_EQ(all_done.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_EQ(delivered, kThreads * kPerThread);
  auto reqs = server_.requests();
  std::set<std::string> ids;
  for (const auto& r : reqs) ids.insert(r.header("ce-id"));
  EXPECT_EQ(ids.size(), std::size_t(kThreads * kPerThread));
  EXPECT_EQ(reqs.size(), ids.size());
}

// Sends `n` events at once, each answered after 100 ms (so each takes a connection
// of its own), and waits for them all.
void deliver_at_once(TestServer& server, Sink& sink, int n) {
  server.script(std::vector<Reply>(n, Reply{.delay = 100ms}));
  std::atomic<int> delivered{0}, completed{0};
  std::promise<void> all_done;
  for (int i = 0; i < n; ++i) {
    sink.send(make_event(std::to_string(i)), [&](DeliveryOutcome o) {
      if (o.kind == Kind::delivered) ++delivered;
      if (++completed == n) all_done.set_value();
    });
  }
  ASSERT_EQ(all_done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(delivered, n);
}

TEST_F(WebhookSinkTest, IdleConnectionsKeptFollowTheSubscriptionsConcurrency) {
  // Two rounds of 6 deliveries at once: how many connections the second one opens.
  auto opened_again = [&](SinkSpec spec, WebhookOptions options) {
    auto sink = make_sink(std::move(spec), options);
    deliver_at_once(server_, *sink, 6);
    const int before = server_.connections();
    deliver_at_once(server_, *sink, 6);
    sink->close();
    return server_.connections() - before;
  };
  // concurrency 6 with max_idle_connections_per_sink 2: all six stay open for reuse
  EXPECT_EQ(opened_again({.uri = server_.url(), .concurrency = 6}, {.max_idle_connections = 2}), 0);
  // concurrency 1 (a sink used by several senders anyway): the configured cap
  EXPECT_EQ(opened_again({.uri = server_.url()}, {.max_idle_connections = 2}), 4);
  // 0 means close after each request, whatever the concurrency
  EXPECT_EQ(opened_again({.uri = server_.url(), .concurrency = 6}, {.max_idle_connections = 0}), 6);
}

TEST_F(WebhookSinkTest, CloseRefusesNewSendsAndClosesIdleConnections) {
  auto sink = make_sink(server_.url());
  EXPECT_EQ(deliver(*sink, make_event()).kind, Kind::delivered);
  sink->close();
  bool called = false;
  DeliveryOutcome out;
  sink->send(make_event(), [&](DeliveryOutcome o) {
    called = true;
    out = std::move(o);
  });
  EXPECT_TRUE(called);  // at once, on this thread
  EXPECT_EQ(out.kind, Kind::retry);
  EXPECT_EQ(out.error, "sink closed");
  for (int i = 0; i < 200 && server_.closed() < 1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_.closed(), 1);  // the server saw the idle connection go
  EXPECT_EQ(server_.requests().size(), 1u);
}

// ---- HTTP/1.1 pipelining (send_ordered with pipeline_depth > 1)

TEST_F(WebhookSinkTest, PipelinedSendsArriveInOrderOnOneConnection) {
  auto sink = pipelined_sink(8);
  EXPECT_EQ(sink->ordered_window(), 8u);
  auto got = deliver_ordered(*sink, 50);
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(got[i].first, std::to_string(i)) << "done calls out of order";
    EXPECT_EQ(got[i].second.kind, Kind::delivered) << got[i].second.error;
  }
  EXPECT_EQ(server_.ids(), id_range(0, 50));
  EXPECT_EQ(server_.connections(), 1);
}

// A window larger than the socket's send buffer: the part of the write that does not
// fit at once goes asynchronously, and every request arrives whole and in order.
TEST_F(WebhookSinkTest, PipelinedWindowLargerThanTheSocketBufferArrivesWhole) {
  auto sink = pipelined_sink(16);
  const std::string big(512 * 1024, 'x');
  std::mutex mutex;
  std::vector<DeliveryOutcome> outcomes;
  std::promise<void> all;
  for (int i = 0; i < 16; ++i) {
    sink->send_ordered(make_event(std::to_string(i), big), [&](DeliveryOutcome o) {
      std::lock_guard lock(mutex);
      outcomes.push_back(std::move(o));
      if (outcomes.size() == 16) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  for (const auto& o : outcomes) EXPECT_EQ(o.kind, Kind::delivered) << o.error;
  EXPECT_EQ(server_.ids(), id_range(0, 16));
  for (const auto& r : server_.requests()) EXPECT_EQ(r.body, big);
}

// The server reads 5 requests before answering the first: only pipelining gets
// answers before the 2 s deadline.
TEST_F(WebhookSinkTest, PipelinedRequestsGoOutBeforeTheFirstAnswer) {
  server_.hold_until(5);
  auto sink = pipelined_sink(8, "", 2s);
  auto got = deliver_ordered(*sink, 5);
  ASSERT_EQ(got.size(), 5u);
  for (const auto& [id, o] : got) EXPECT_EQ(o.kind, Kind::delivered) << id << ": " << o.error;
  EXPECT_EQ(server_.ids(), id_range(0, 5));
}

TEST_F(WebhookSinkTest, PipelinedErrorStatusFailsOnlyItsOwnRequest) {
  server_.script({Reply{}, Reply{.status = 503}, Reply{.status = 404}, Reply{}});
  auto sink = pipelined_sink(8);
  auto got = deliver_ordered(*sink, 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].second.kind, Kind::delivered);
  EXPECT_EQ(got[1].second.kind, Kind::retry);
  EXPECT_EQ(got[1].second.status, 503);
  EXPECT_EQ(got[2].second.kind, Kind::permanent);
  EXPECT_EQ(got[2].second.status, 404);
  EXPECT_EQ(got[3].second.kind, Kind::delivered);
  EXPECT_EQ(server_.connections(), 1);
}

// A sink that closes the connection after every answer (without saying so): the
// unanswered requests go again on fresh connections, in order, and none fails.
TEST_F(WebhookSinkTest, PipelinedSinkClosingAfterEachAnswerStillGetsEverythingInOrder) {
  server_.script(std::vector<Reply>(8, Reply{.close_after = true}));
  auto sink = pipelined_sink(8);
  auto got = deliver_ordered(*sink, 8);
  ASSERT_EQ(got.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(got[i].first, std::to_string(i));
    EXPECT_EQ(got[i].second.kind, Kind::delivered) << got[i].first << ": " << got[i].second.error;
  }
  // Each event answered once; requests the server dropped unanswered were re-sent.
  auto ids = server_.ids();
  std::vector<std::string> answered;
  for (const auto& id : ids)
    if (answered.empty() || answered.back() != id) answered.push_back(id);
  EXPECT_EQ(answered, id_range(0, 8));
  EXPECT_GE(server_.connections(), 8);
}

// "Connection: close" on every answer: the sink drops to one request at a time.
TEST_F(WebhookSinkTest, PipelinedSinkAnsweringConnectionCloseGetsOneRequestAtATime) {
  server_.script(std::vector<Reply>(6, Reply{.headers = {{"Connection", "close"}}, .close_after = true}));
  auto sink = pipelined_sink(8);
  auto got = deliver_ordered(*sink, 6);
  ASSERT_EQ(got.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(got[i].first, std::to_string(i));
    EXPECT_EQ(got[i].second.kind, Kind::delivered) << got[i].second.error;
  }
  EXPECT_EQ(server_.connections(), 6);
  EXPECT_EQ(server_.ids(), id_range(0, 6));
  auto later = deliver_ordered(*sink, 3, 6);
  for (const auto& [id, o] : later) EXPECT_EQ(o.kind, Kind::delivered) << id << ": " << o.error;
  EXPECT_EQ(server_.connections(), 7);  // keep-alive again, one request at a time
}

TEST_F(WebhookSinkTest, PipelinedFreshConnectionDroppedWithoutAnswerFailsEveryRequestInOrder) {
  server_.hold_until(3);  // all three are on the connection when it is dropped
  server_.script({Reply{.drop = true}});
  auto sink = pipelined_sink(8);
  expect_retried_in_order(deliver_ordered(*sink, 3), 3, "127.0.0.1:");
}

TEST_F(WebhookSinkTest, PipelinedRequestsDroppedByAReusedConnectionGoAgainOnAFreshOne) {
  server_.script({Reply{}, Reply{.drop = true}});
  auto sink = pipelined_sink(8);
  auto got = deliver_ordered(*sink, 1);
  ASSERT_EQ(got[0].second.kind, Kind::delivered);
  // 1 is read and dropped on a connection that answered before: sent again once on
  // a fresh connection, where it is answered.
  auto next = deliver_ordered(*sink, 3, 1);
  ASSERT_EQ(next.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(next[i].first, std::to_string(i + 1));
    EXPECT_EQ(next[i].second.kind, Kind::delivered) << next[i].second.error;
  }
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(WebhookSinkTest, PipelinedSendsToAClosedPortFailInOrder) {
  tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto port = probe.local_endpoint().port();
  probe.close();
  auto sink = pipelined_sink(8, "http://127.0.0.1:" + std::to_string(port) + "/hook");
  expect_retried_in_order(deliver_ordered(*sink, 3), 3, "failed");
}

TEST_F(WebhookSinkTest, PipelinedSlowAnswerTimesOutTheOldestAndResendsTheRest) {
  server_.script({Reply{.delay = 1500ms}});
  auto sink = pipelined_sink(8, "", 500ms);
  auto got = deliver_ordered(*sink, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first, "0");
  EXPECT_EQ(got[0].second.kind, Kind::retry);
  EXPECT_NE(got[0].second.error.find("timed out after 500 ms"), std::string::npos) << got[0].second.error;
  EXPECT_EQ(got[1].second.kind, Kind::delivered) << got[1].second.error;
  EXPECT_EQ(got[2].second.kind, Kind::delivered) << got[2].second.error;
  EXPECT_GE(server_.connections(), 2);
}

TEST_F(WebhookSinkTest, ClosingAPipelinedSinkFailsWhatIsUnanswered) {
  server_.hold_until(100);  // never answers 3 requests
  auto sink = pipelined_sink(8);
  struct State {
    std::mutex mutex;
    std::vector<DeliveryOutcome> got;
    std::promise<void> all;
  };
  auto state = std::make_shared<State>();
  for (int i = 0; i < 3; ++i) {
    sink->send_ordered(make_event(std::to_string(i)), [state](DeliveryOutcome o) {
      std::lock_guard lock(state->mutex);
      state->got.push_back(std::move(o));
      if (state->got.size() == 3) state->all.set_value();
    });
  }
  for (auto end = std::chrono::steady_clock::now() + 5s; server_.requests().size() < 3;) {
    ASSERT_LT(std::chrono::steady_clock::now(), end);
    std::this_thread::sleep_for(1ms);
  }
  sink->close();
  ASSERT_EQ(state->all.get_future().wait_for(5s), std::future_status::ready);
  std::lock_guard lock(state->mutex);
  for (const auto& o : state->got) {
    EXPECT_EQ(o.kind, Kind::retry);
    EXPECT_EQ(o.error, "sink closed");
  }
}

TEST(RetryAfter, DeltaSecondsAndHttpDates) {
  auto now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 30s;
  EXPECT_EQ(parse_retry_after("3", now), 3000ms);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0ms);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 7000ms);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 7000ms);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), 7000ms);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0ms);  // past: now
  EXPECT_EQ(parse_retry_after("99999999999999999999", now), std::chrono::seconds(2147483647));
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 CET", now), std::nullopt);
}

TEST(RetryAfter, OnlyRetryOutcomesCarryIt) {
  auto now = std::chrono::system_clock::now();
  EXPECT_EQ(outcome_for_status(503, "", "7", now).retry_after, 7000ms);
  EXPECT_EQ(outcome_for_status(503, "", "garbage", now).retry_after, std::nullopt);
  EXPECT_EQ(outcome_for_status(404, "", "7", now).retry_after, std::nullopt);
  EXPECT_EQ(outcome_for_status(200, "OK", "7", now).retry_after, std::nullopt);
  EXPECT_EQ(outcome_for_status(599, "", "", now).kind, Kind::retry);
  EXPECT_EQ(outcome_for_status(600, "", "", now).kind, Kind::permanent);
}

}  // namespace
}  // namespace evmesh::http
