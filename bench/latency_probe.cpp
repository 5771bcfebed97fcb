// latency_probe: publish→webhook latency of evmeshd at a fixed publish rate.
//
// Design note
// -----------
// One process plays both ends, so both timestamps come from one steady clock:
//
//   publisher ──POST / (binary mode, ce-id: <seq>)──▶ evmeshd ──POST──▶ sink (this process)
//        ▲                                              │
//        └──────────────── 202 (publish ack) ───────────┘
//
// * Events are scheduled at start + seq / rate (an open loop: the schedule does not
//   wait for acks). At each tick every event that is due goes to an idle keep-alive
//   connection; when all connections are busy it waits in a local queue, and the
//   time it waited shows up as "send lag" (and in the *_sched figures, which are
//   measured from the scheduled instant and so are free of coordinated omission).
// * ce-id carries the sequence number; the sink looks it up, stamps the arrival and
//   answers 202 at once. Duplicates (a retried delivery) and unknown ids are counted.
// * Everything runs on one thread and one io_context: no locks, and the probe's own
//   CPU use stays small next to the daemon it measures (the machine has 2 cores).
// * The first --warmup seconds of events are sent and counted but left out of the
//   percentiles (connection set-up, page faults, lazy allocations).
//
// Output: a human-readable report, then one `RESULT key=value ...` line for scripts.
//
//   latency_probe --target 127.0.0.1:8080 --sink-port 9000 [--rate 5000] [--duration 10]
//                 [--warmup 1] [--connections 4] [--body-bytes 200] [--drain-timeout 5]
//                 [--type com.example.bench.event]
#include <sys/prctl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

constexpr std::int64_t kNone = -1;

struct Options {
  std::string target_host = "127.0.0.1";
  std::string target_port;
  unsigned short sink_port = 0;
  double rate = 5000;
  double duration_s = 10;
  double warmup_s = 1;
  int connections = 4;
  std::size_t body_bytes = 200;
  double drain_timeout_s = 5;
  std::string type = "com.example.bench.event";
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "latency_probe: %s\n"
               "usage: latency_probe --target HOST:PORT --sink-port PORT [--rate EVENTS_PER_S]\n"
               "         [--duration S] [--warmup S] [--connections N] [--body-bytes N]\n"
               "         [--drain-timeout S] [--type CE_TYPE]\n",
               why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + std::string(arg)).c_str());
      return argv[++i];
    };
    if (arg == "--target") {
      auto t = next();
      auto colon = t.rfind(':');
      if (colon == std::string::npos) usage("--target expects HOST:PORT");
      o.target_host = t.substr(0, colon);
      o.target_port = t.substr(colon + 1);
    } else if (arg == "--sink-port") {
      o.sink_port = static_cast<unsigned short>(std::stoi(next()));
    } else if (arg == "--rate") {
      o.rate = std::stod(next());
    } else if (arg == "--duration") {
      o.duration_s = std::stod(next());
    } else if (arg == "--warmup") {
      o.warmup_s = std::stod(next());
    } else if (arg == "--connections") {
      o.connections = std::stoi(next());
    } else if (arg == "--body-bytes") {
      o.body_bytes = static_cast<std::size_t>(std::stoul(next()));
    } else if (arg == "--type") {
      o.type = next();
    } else if (arg == "--drain-timeout") {
      o.drain_timeout_s = std::stod(next());
    } else if (arg == "--help" || arg == "-h") {
      usage("help");
    } else {
      usage(("unknown argument " + std::string(arg)).c_str());
    }
  }
  if (o.target_port.empty()) usage("--target is required");
  if (o.rate <= 0 || o.duration_s <= 0 || o.connections <= 0) usage("rate, duration, connections must be > 0");
  if (o.warmup_s >= o.duration_s) usage("--warmup must be shorter than --duration");
  return o;
}

// Per event, nanoseconds since the probe's start; kNone until it happens.
struct Sample {
  std::int64_t scheduled = kNone;
  std::int64_t sent = kNone;
  std::int64_t acked = kNone;
  std::int64_t delivered = kNone;
  int status = 0;  // publish answer; 0 = transport error / none
};

// A JSON body of about `size` bytes (padding in one string member).
std::string make_body(std::size_t size) {
  std::string head = R"({"order":{"id":"A-1042","customer":"c-77","items":3,"total":129.95,"currency":"EUR"},"note":")";
  std::string tail = R"("})";
  std::string pad = size > head.size() + tail.size() ? std::string(size - head.size() - tail.size(), 'x') : "";
  return head + pad + tail;
}

class Probe;

// One keep-alive connection to the daemon's ingress; one request in flight.
class PublishConnection : public std::enable_shared_from_this<PublishConnection> {
 public:
  PublishConnection(Probe& probe, asio::io_context& io) : probe_(probe), socket_(io) {}
  tcp::socket& socket() { return socket_; }
  bool idle() const { return open_ && !busy_; }
  bool closed() const { return !open_ && !busy_; }
  void mark_open() {
    open_ = true;
    socket_.set_option(tcp::no_delay(true));
  }
  void send(std::uint64_t seq);

 private:
  void on_write(error_code ec, std::size_t);
  void on_read(error_code ec, std::size_t);
  void fail(const char* what, error_code ec);

  Probe& probe_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string out_;
  std::uint64_t seq_ = 0;
  bool busy_ = false;
  bool open_ = false;
};

// One connection the daemon opened to our sink.
class SinkSession : public std::enable_shared_from_this<SinkSession> {
 public:
  SinkSession(Probe& probe, tcp::socket socket) : probe_(probe), socket_(std::move(socket)) {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
  }
  void start() { do_read(); }

 private:
  void do_read();
  void on_read(error_code ec, std::size_t);
  void on_write(error_code ec, std::size_t, bool close);

  Probe& probe_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

class Probe {
 public:
  Probe(asio::io_context& io, Options opt)
      : io_(io), opt_(std::move(opt)), acceptor_(io), timer_(io), watchdog_(io), body_(make_body(opt_.body_bytes)) {
    total_ = static_cast<std::uint64_t>(opt_.rate * opt_.duration_s);
    warmup_events_ = static_cast<std::uint64_t>(opt_.rate * opt_.warmup_s);
    samples_.resize(total_);
    interval_ns_ = 1e9 / opt_.rate;
    auto head = std::string("POST / HTTP/1.1\r\nHost: ") + opt_.target_host + ":" + opt_.target_port +
                "\r\nce-specversion: 1.0\r\nce-source: /bench/latency-probe\r\n"
                "ce-type: " + opt_.type + "\r\nce-subject: orders/eu/A-1042\r\n"
                "Content-Type: application/json\r\nContent-Length: " +
                std::to_string(body_.size()) + "\r\nce-id: ";
    request_head_ = std::move(head);
  }

  std::int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
  }

  void start_sink() {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), opt_.sink_port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    std::printf("sink listening on 127.0.0.1:%u\n", acceptor_.local_endpoint().port());
    std::fflush(stdout);
    do_accept();
  }

  void connect_publishers() {
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(opt_.target_host, opt_.target_port);
    for (int i = 0; i < opt_.connections; ++i) {
      auto conn = std::make_shared<PublishConnection>(*this, io_);
      asio::connect(conn->socket(), endpoints);  // blocking, before the clock starts
      conn->mark_open();
      conns_.push_back(std::move(conn));
    }
  }

  void run_schedule() {
    start_ = Clock::now();
    // Whatever goes wrong (daemon hangs, every connection refused), stop and report.
    watchdog_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(opt_.duration_s + opt_.drain_timeout_s + 10)));
    watchdog_.async_wait([this](error_code ec) {
      if (ec) return;
      std::fprintf(stderr, "latency_probe: watchdog expired (%" PRIu64 " of %" PRIu64 " answered); stopping\n",
                   acked_, total_);
      if (!publishing_done_) publish_end_ = now_ns();
      io_.stop();
    });
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // 50 µs default slack would blur 200 µs ticks
    arm_timer();
  }

  // Called by a connection when its answer arrived (or it failed).
  void on_ack(std::uint64_t seq, int status) {
    auto& s = samples_[seq];
    s.acked = now_ns();
    s.status = status;
    ++acks_by_status_[status];
    ++acked_;
    send_pending();
    maybe_finish_publishing();
  }

  void on_publish_failure(std::uint64_t seq, const char* what, error_code ec) {
    if (transport_errors_++ < 5)
      std::fprintf(stderr, "publish %" PRIu64 ": %s: %s\n", seq, what, ec.message().c_str());
    on_ack(seq, 0);
  }

  void on_delivery(std::string_view id, std::int64_t at) {
    std::uint64_t seq = 0;
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), seq);
    if (ec != std::errc() || p != id.data() + id.size() || seq >= total_) {
      ++unknown_ids_;
      return;
    }
    auto& s = samples_[seq];
    if (s.delivered != kNone) {
      ++duplicates_;
      return;
    }
    s.delivered = at;
    ++delivered_;
  }

  const std::string& request_head() const { return request_head_; }
  const std::string& body() const { return body_; }
  Sample& sample(std::uint64_t seq) { return samples_[seq]; }

  void report() const;

 private:
  void do_accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec) return;  // acceptor closed
      std::make_shared<SinkSession>(*this, std::move(socket))->start();
      do_accept();
    });
  }

  std::int64_t scheduled_ns(std::uint64_t seq) const {
    return static_cast<std::int64_t>(static_cast<double>(seq) * interval_ns_);
  }

  void arm_timer() {
    if (next_ >= total_) return;
    timer_.expires_at(start_ + std::chrono::nanoseconds(scheduled_ns(next_)));
    timer_.async_wait([this](error_code ec) {
      if (ec) return;
      auto now = now_ns();
      while (next_ < total_ && scheduled_ns(next_) <= now) {
        samples_[next_].scheduled = scheduled_ns(next_);
        pending_.push_back(next_++);
      }
      send_pending();
      arm_timer();
    });
  }

  void send_pending() {
    for (auto& c : conns_) {
      if (pending_.empty()) return;
      if (c->closed() && !reopen(*c)) continue;
      if (c->idle()) {
        auto seq = pending_.front();
        pending_.pop_front();
        c->send(seq);
      }
    }
  }

  // The daemon closed a connection (or it failed): reconnect once, blocking (loopback,
  // tens of microseconds). Counted: any reconnect is worth a look.
  bool reopen(PublishConnection& c) {
    error_code ec;
    c.socket().close(ec);
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(opt_.target_host, opt_.target_port, ec);
    if (!ec) asio::connect(c.socket(), endpoints, ec);
    if (ec) {
      if (reconnect_failures_++ < 5) std::fprintf(stderr, "reconnect failed: %s\n", ec.message().c_str());
      return false;
    }
    ++reconnects_;
    c.mark_open();
    return true;
  }

  void maybe_finish_publishing() {
    if (acked_ < total_ || publishing_done_) return;
    publishing_done_ = true;
    publish_end_ = now_ns();
    drain_deadline_ = publish_end_ + static_cast<std::int64_t>(opt_.drain_timeout_s * 1e9);
    poll_drain();
  }

  void poll_drain() {
    std::uint64_t accepted = acks_by_status_.count(202) ? acks_by_status_.at(202) : 0;
    if (delivered_ >= accepted || now_ns() >= drain_deadline_) {
      for (auto& c : conns_) {
        error_code ec;
        c->socket().close(ec);
      }
      acceptor_.close();
      watchdog_.cancel();
      io_.stop();
      return;
    }
    timer_.expires_after(std::chrono::milliseconds(10));
    timer_.async_wait([this](error_code ec) {
      if (!ec) poll_drain();
    });
  }

  asio::io_context& io_;
  Options opt_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  asio::steady_timer watchdog_;
  std::string body_;
  std::string request_head_;
  std::vector<std::shared_ptr<PublishConnection>> conns_;
  std::vector<Sample> samples_;
  std::deque<std::uint64_t> pending_;
  Clock::time_point start_;
  double interval_ns_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t warmup_events_ = 0;
  std::uint64_t next_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t unknown_ids_ = 0;
  std::uint64_t transport_errors_ = 0;
  std::uint64_t reconnects_ = 0;
  std::uint64_t reconnect_failures_ = 0;
  std::map<int, std::uint64_t> acks_by_status_;
  bool publishing_done_ = false;
  std::int64_t publish_end_ = 0;
  std::int64_t drain_deadline_ = 0;
};

// ---- PublishConnection -------------------------------------------------------

void PublishConnection::send(std::uint64_t seq) {
  busy_ = true;
  seq_ = seq;
  out_.assign(probe_.request_head());
  out_ += std::to_string(seq);
  out_ += "\r\n\r\n";
  out_ += probe_.body();
  parser_.emplace();
  parser_->body_limit(1 << 20);
  probe_.sample(seq).sent = probe_.now_ns();
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](error_code ec, std::size_t n) { self->on_write(ec, n); });
}

void PublishConnection::on_write(error_code ec, std::size_t) {
  if (ec) return fail("write", ec);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void PublishConnection::on_read(error_code ec, std::size_t) {
  if (ec) return fail("read", ec);
  const auto& res = parser_->get();
  const int status = res.result_int();
  busy_ = false;
  if (!res.keep_alive()) {
    // The daemon closed the connection (e.g. shutting down); stop using it.
    open_ = false;
    error_code ignored;
    socket_.close(ignored);
  }
  probe_.on_ack(seq_, status);
}

void PublishConnection::fail(const char* what, error_code ec) {
  busy_ = false;
  open_ = false;
  error_code ignored;
  socket_.close(ignored);
  probe_.on_publish_failure(seq_, what, ec);
}

// ---- SinkSession -------------------------------------------------------------

constexpr std::string_view kSinkResponse =
    "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view kSinkResponseClose =
    "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

void SinkSession::do_read() {
  parser_.emplace();
  parser_->body_limit(16 << 20);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void SinkSession::on_read(error_code ec, std::size_t) {
  const auto at = probe_.now_ns();
  if (ec) return;  // peer closed or error: the session ends
  const auto& req = parser_->get();
  auto it = req.find("ce-id");
  probe_.on_delivery(it == req.end() ? std::string_view{} : std::string_view(it->value()), at);
  const bool close = !req.keep_alive();
  auto reply = close ? kSinkResponseClose : kSinkResponse;
  asio::async_write(socket_, asio::buffer(reply.data(), reply.size()),
                    [self = shared_from_this(), close](error_code ec, std::size_t n) {
                      self->on_write(ec, n, close);
                    });
}

void SinkSession::on_write(error_code ec, std::size_t, bool close) {
  if (ec || close) {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  do_read();
}

// ---- report ------------------------------------------------------------------

struct Percentiles {
  std::size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

Percentiles percentiles(std::vector<std::int64_t> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(idx, v.size() - 1)]) / 1000.0;  // ns → µs
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = static_cast<double>(v.back()) / 1000.0;
  return p;
}

void print_row(const char* name, const Percentiles& p) {
  std::printf("  %-32s n=%-7zu p50 %8.1f  p90 %8.1f  p99 %8.1f  p99.9 %8.1f  max %9.1f\n", name, p.n,
              p.p50, p.p90, p.p99, p.p999, p.max);
}

void Probe::report() const {
  std::vector<std::int64_t> ack, e2e, e2e_sched, lag;
  std::uint64_t sent = 0;
  for (std::uint64_t i = 0; i < total_; ++i) {
    const auto& s = samples_[i];
    if (s.sent != kNone) ++sent;
    if (i < warmup_events_) continue;
    if (s.sent != kNone) lag.push_back(s.sent - s.scheduled);
    if (s.acked != kNone && s.status != 0) ack.push_back(s.acked - s.sent);
    if (s.delivered != kNone) {
      e2e.push_back(s.delivered - s.sent);
      e2e_sched.push_back(s.delivered - s.scheduled);
    }
  }
  const double wall_s = static_cast<double>(publish_end_) / 1e9;
  std::uint64_t accepted = acks_by_status_.count(202) ? acks_by_status_.at(202) : 0;

  std::printf("\nlatency_probe: target %s:%s, %d connection(s), rate %.0f/s for %.1f s (%" PRIu64
              " events, first %.1f s = %" PRIu64 " events excluded from percentiles)\n",
              opt_.target_host.c_str(), opt_.target_port.c_str(), opt_.connections, opt_.rate,
              opt_.duration_s, total_, opt_.warmup_s, warmup_events_);
  std::printf("  sent %" PRIu64 " in %.2f s (%.0f/s achieved); answers:", sent, wall_s,
              wall_s > 0 ? static_cast<double>(sent) / wall_s : 0.0);
  for (const auto& [status, n] : acks_by_status_)
    std::printf(" %s=%" PRIu64, status == 0 ? "error" : std::to_string(status).c_str(), n);
  if (reconnects_ || reconnect_failures_ || transport_errors_)
    std::printf("\n  transport errors %" PRIu64 ", reconnects %" PRIu64 ", failed reconnects %" PRIu64,
                transport_errors_, reconnects_, reconnect_failures_);
  std::printf("\n  delivered %" PRIu64 " of %" PRIu64 " accepted (%.3f%%), duplicates %" PRIu64
              ", unknown ids %" PRIu64 "\n",
              delivered_, accepted, accepted ? 100.0 * static_cast<double>(delivered_) / static_cast<double>(accepted) : 0.0,
              duplicates_, unknown_ids_);
  std::printf("  latencies in microseconds:\n");
  auto p_ack = percentiles(ack);
  auto p_e2e = percentiles(e2e);
  auto p_sched = percentiles(e2e_sched);
  auto p_lag = percentiles(lag);
  print_row("publish -> ack (202)", p_ack);
  print_row("publish -> webhook", p_e2e);
  print_row("scheduled -> webhook (CO-free)", p_sched);
  print_row("send lag (scheduled -> sent)", p_lag);
  std::printf(
      "RESULT rate=%.0f sent=%" PRIu64 " accepted=%" PRIu64 " delivered=%" PRIu64 " duplicates=%" PRIu64
      " ack_p50_us=%.1f ack_p99_us=%.1f e2e_p50_us=%.1f e2e_p90_us=%.1f e2e_p99_us=%.1f"
      " e2e_p999_us=%.1f e2e_max_us=%.1f sched_p50_us=%.1f sched_p99_us=%.1f lag_p99_us=%.1f\n",
      opt_.rate, sent, accepted, delivered_, duplicates_, p_ack.p50, p_ack.p99, p_e2e.p50, p_e2e.p90,
      p_e2e.p99, p_e2e.p999, p_e2e.max, p_sched.p50, p_sched.p99, p_lag.p99);
}

}  // namespace

int main(int argc, char** argv) {
  auto opt = parse_options(argc, argv);
  asio::io_context io(1);
  Probe probe(io, opt);
  try {
    probe.start_sink();
    probe.connect_publishers();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "latency_probe: start-up failed: %s\n", e.what());
    return 1;
  }
  probe.run_schedule();
  io.run();
  probe.report();
  return 0;
}
