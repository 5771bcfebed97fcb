// mqtt_load: an MQTT 3.1.1 load generator on raw sockets (no client library in the
// way), so evmeshd and mosquitto are measured by the same code (bench/mqtt_bench.sh).
//
//   mqtt_load --port P --qos 0|1 --subscribers N --seconds S [--rate R] [--payload 256]
//     One publisher, N subscribers on one topic. Without --rate: as fast as the
//     broker goes, the publisher keeping at most --window messages not yet received
//     by every subscriber (and, at QoS 1, not yet PUBACKed); one io_context, so the
//     tool's own cost stays the same for both brokers. With --rate: open loop at R
//     msgs/s for latency, on threads that block in the kernel rather than in an event
//     loop's timer: the publisher sleeps to each message's scheduled time (1 ns timer
//     slack) and stamps the payload with the time it calls send(); one thread per
//     subscriber blocks in recv(). A send never blocks at these rates, so stamping at
//     send is free of coordinated omission; the publisher's lag behind its schedule is
//     reported (send_lag_p99_us) to show it kept the rate.
//     Prints one line: msgs/s published, deliveries/s, p50/p99 latency in us.
//   mqtt_load --port P --idle N [--pid PID]
//     Opens N connections (CONNECT/CONNACK), then reports PID's RSS growth per
//     connection (kB), measured before and after.
#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include <sys/prctl.h>
#include <time.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int port = 1883;
  int qos = 0;
  int subscribers = 1;
  double seconds = 5;
  double rate = 0;
  std::size_t payload = 256;
  std::size_t window = 2000;
  int idle = 0;
  int pid = 0;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

void put_u16(std::string& s, unsigned v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xFF));
}
void put_str(std::string& s, std::string_view v) {
  put_u16(s, static_cast<unsigned>(v.size()));
  s.append(v);
}
void put_len(std::string& s, std::size_t n) {
  do {
    unsigned char b = n & 0x7F;
    n >>= 7;
    if (n) b |= 0x80;
    s.push_back(static_cast<char>(b));
  } while (n);
}
std::string frame(unsigned char first, const std::string& body) {
  std::string out(1, static_cast<char>(first));
  put_len(out, body.size());
  return out + body;
}
std::string connect_packet(const std::string& id) {
  std::string b;
  put_str(b, "MQTT");
  b.push_back(4);
  b.push_back(0x02);  // clean session
  put_u16(b, 600);
  put_str(b, id);
  return frame(0x10, b);
}
std::string subscribe_packet(const std::string& topic, int qos) {
  std::string b;
  put_u16(b, 1);
  put_str(b, topic);
  b.push_back(static_cast<char>(qos));
  return frame(0x82, b);
}

// Frames a byte stream into packets: calls f(first, body).
template <typename F>
std::size_t parse(const char* data, std::size_t len, F&& f) {
  std::size_t pos = 0;
  while (len - pos >= 2) {
    std::size_t n = 0, mult = 1, i = pos + 1;
    bool done = false;
    for (; i < len && i < pos + 5; ++i) {
      auto b = static_cast<unsigned char>(data[i]);
      n += (b & 0x7F) * mult;
      mult *= 128;
      if (!(b & 0x80)) {
        done = true;
        ++i;
        break;
      }
    }
    if (!done || len - i < n) break;
    f(static_cast<unsigned char>(data[pos]), std::string_view(data + i, n));
    pos = i + n;
  }
  return pos;
}

// A connection that reads packets and writes batches (one write in flight).
struct Conn : std::enable_shared_from_this<Conn> {
  Conn(asio::io_context& io) : sock(io) {}
  tcp::socket sock;
  std::vector<char> rbuf = std::vector<char>(1 << 16);
  std::size_t rlen = 0;
  std::string out, writing;
  bool writing_now = false;
  std::function<void(unsigned char, std::string_view)> on_packet;
  std::function<void()> after_read;  // once per read, after its packets
  std::function<void()> on_written;

  void start_read() {
    sock.async_read_some(asio::buffer(rbuf.data() + rlen, rbuf.size() - rlen),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           if (ec) return;
                           self->consume(n);
                           if (self->after_read) self->after_read();
                           self->start_read();
                         });
  }
  // Frames the n new bytes in rbuf into packets; keeps a partial one for the next read.
  void consume(std::size_t n) {
    rlen += n;
    auto used = parse(rbuf.data(), rlen, on_packet);
    std::memmove(rbuf.data(), rbuf.data() + used, rlen - used);
    rlen -= used;
    if (rlen == rbuf.size()) rbuf.resize(rbuf.size() * 2);
  }
  void send(std::string_view bytes) {
    out.append(bytes);
    flush();
  }
  void flush() {
    if (writing_now || out.empty()) return;
    writing_now = true;
    writing.swap(out);
    asio::async_write(sock, asio::buffer(writing), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->writing_now = false;
      self->writing.clear();
      if (ec) return;
      self->flush();
      if (self->on_written) self->on_written();
    });
  }
};

std::shared_ptr<Conn> open(asio::io_context& io, int port, const std::string& id) {
  auto c = std::make_shared<Conn>(io);
  c->sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  c->sock.set_option(tcp::no_delay(true));
  auto p = connect_packet(id);
  asio::write(c->sock, asio::buffer(p));
  char ack[4];
  asio::read(c->sock, asio::buffer(ack, 4));
  if (ack[0] != 0x20 || ack[3] != 0) throw std::runtime_error("CONNACK refused for " + id);
  return c;
}

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int run_idle(const Options& o) {
  asio::io_context io;
  long before = o.pid ? rss_kb(o.pid) : 0;
  std::vector<std::shared_ptr<Conn>> conns;
  conns.reserve(o.idle);
  for (int i = 0; i < o.idle; ++i) conns.push_back(open(io, o.port, "idle-" + std::to_string(i)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = o.pid ? rss_kb(o.pid) : 0;
  std::cout << "idle_connections=" << o.idle << " rss_before_kb=" << before << " rss_after_kb=" << after
            << " kb_per_connection=" << (o.idle ? double(after - before) / o.idle : 0) << "\n";
  return 0;
}

const std::string kTopic = "bench/t";

// Builds PUBLISH packets on the bench topic; the payload starts with a stamp in ns.
struct Publisher {
  explicit Publisher(const Options& o) : qos(o.qos), payload(o.payload, 'x') {}
  std::string make(std::int64_t stamp) {
    std::memcpy(payload.data(), &stamp, 8);
    std::string b;
    put_str(b, kTopic);
    if (qos) put_u16(b, id = static_cast<std::uint16_t>(id % 65535 + 1));
    b += payload;
    return frame(static_cast<unsigned char>(0x30 | (qos << 1)), b);
  }
  int qos;
  std::string payload;
  std::uint16_t id = 0;
};

// A subscriber's view of one PUBLISH: acks it when needed and returns its stamp, or -1.
template <typename Ack>
std::int64_t on_publish(unsigned char first, std::string_view body, Ack&& ack) {
  if ((first >> 4) != 3) return -1;
  std::size_t off = 2 + (static_cast<unsigned char>(body[0]) << 8 | static_cast<unsigned char>(body[1]));
  if ((first >> 1) & 3) {
    char puback[4] = {0x40, 2, body[off], body[off + 1]};
    ack(std::string_view(puback, 4));
    off += 2;
  }
  std::int64_t stamp = -1;
  if (body.size() >= off + 8) std::memcpy(&stamp, body.data() + off, 8);
  return stamp;
}

std::shared_ptr<Conn> open_subscriber(asio::io_context& io, const Options& o, int i) {
  auto c = open(io, o.port, "sub-" + std::to_string(i));
  auto sp = subscribe_packet(kTopic, o.qos);
  asio::write(c->sock, asio::buffer(sp));
  char suback[5];
  asio::read(c->sock, asio::buffer(suback, 5));
  if (suback[0] != char(0x90) || static_cast<unsigned char>(suback[4]) > 2)
    throw std::runtime_error("SUBSCRIBE refused for sub-" + std::to_string(i));
  return c;
}

double pct_us(std::vector<std::int64_t>& l, double p) {
  std::sort(l.begin(), l.end());
  return l.empty() ? 0.0 : l[std::min(l.size() - 1, std::size_t(p * l.size()))] / 1000.0;
}

// As fast as the broker goes, within a window of messages not yet delivered everywhere.
int run_closed_loop(const Options& o) {
  asio::io_context io;
  std::uint64_t published = 0, acked = 0;
  std::vector<std::uint64_t> received(o.subscribers, 0);
  std::vector<std::int64_t> latencies;
  const std::int64_t warm_until = now_ns() + 500'000'000;  // the first half second is warm-up
  std::vector<std::shared_ptr<Conn>> subs;
  for (int i = 0; i < o.subscribers; ++i) {
    auto c = open_subscriber(io, o, i);
    Conn* raw = c.get();
    c->on_packet = [&, i, raw](unsigned char first, std::string_view body) {
      auto stamp = on_publish(first, body, [raw](std::string_view ack) { raw->send(ack); });
      if (stamp < 0) return;
      ++received[i];
      if (i == 0 && stamp >= warm_until) latencies.push_back(now_ns() - stamp);
    };
    subs.push_back(c);
  }
  auto pub = open(io, o.port, "pub");
  Publisher make(o);
  pub->on_packet = [&](unsigned char first, std::string_view) {
    if ((first >> 4) == 4) ++acked;
  };

  const auto start = Clock::now();
  bool stop = false;
  asio::steady_timer tick(io);
  // Refills the window whenever it may have opened: after a write, after any read, and
  // on a tick as a fallback.
  std::function<void()> pump = [&] {
    if (stop) return;
    std::uint64_t done = std::min(*std::min_element(received.begin(), received.end()), o.qos ? acked : published);
    std::string batch;
    while (published - done < o.window && batch.size() < 64 * 1024) {
      batch += make.make(now_ns());
      ++published;
    }
    if (!batch.empty()) pub->send(batch);
    tick.expires_after(std::chrono::microseconds(200));
    tick.async_wait([&](boost::system::error_code ec) {
      if (!ec) pump();
    });
  };
  for (auto& c : subs) {
    c->after_read = pump;
    c->start_read();
  }
  pub->after_read = pump;
  pub->on_written = pump;
  pub->start_read();
  pump();
  asio::steady_timer finish(io, start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds)));
  std::uint64_t received_at_end = 0, published_at_end = 0;
  finish.async_wait([&](boost::system::error_code) {
    stop = true;
    published_at_end = published;
    for (auto r : received) received_at_end += r;
    io.stop();
  });
  io.run();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "qos=" << o.qos << " subscribers=" << o.subscribers << " rate=0"
            << " published_per_s=" << static_cast<long>(published_at_end / secs)
            << " deliveries_per_s=" << static_cast<long>(received_at_end / secs) << " p50_us=" << pct_us(latencies, 0.50)
            << " p99_us=" << pct_us(latencies, 0.99) << " samples=" << latencies.size() << "\n";
  return 0;
}

// Reads packets from a blocking socket until it closes; f(first, body) for each.
template <typename F>
void read_blocking(Conn& c, F&& f) {
  c.on_packet = std::forward<F>(f);
  boost::system::error_code ec;
  for (;;) {
    auto n = c.sock.read_some(asio::buffer(c.rbuf.data() + c.rlen, c.rbuf.size() - c.rlen), ec);
    if (ec) return;
    c.consume(n);
  }
}

// Open loop at o.rate msgs/s: see the header. Subscriber 0's latencies are measured.
int run_open_loop(const Options& o) {
  asio::io_context io;  // only to own the sockets; all I/O here is blocking
  std::vector<std::shared_ptr<Conn>> subs;
  for (int i = 0; i < o.subscribers; ++i) subs.push_back(open_subscriber(io, o, i));
  auto pub = open(io, o.port, "pub");
  std::atomic<std::uint64_t> delivered{0};
  std::vector<std::int64_t> latencies, lags;
  const std::int64_t start = now_ns() + 10'000'000;
  const std::int64_t warm_until = start + 500'000'000;
  std::vector<std::thread> readers;
  for (int i = 0; i < o.subscribers; ++i)
    readers.emplace_back([&, i] {
      Conn& c = *subs[i];
      read_blocking(c, [&](unsigned char first, std::string_view body) {
        auto stamp = on_publish(first, body, [&c](std::string_view ack) { asio::write(c.sock, asio::buffer(ack)); });
        if (stamp < 0) return;
        auto now = now_ns();
        delivered.fetch_add(1, std::memory_order_relaxed);
        if (i == 0 && stamp >= warm_until) latencies.push_back(now - stamp);
      });
    });
  readers.emplace_back([&] { read_blocking(*pub, [](unsigned char, std::string_view) {}); });

  prctl(PR_SET_TIMERSLACK, 1UL);
  Publisher make(o);
  const auto count = static_cast<std::uint64_t>(o.seconds * o.rate);
  for (std::uint64_t k = 0; k < count; ++k) {
    const std::int64_t at = start + static_cast<std::int64_t>(k * 1e9 / o.rate);
    timespec ts{static_cast<time_t>(at / 1'000'000'000), static_cast<long>(at % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    const auto stamp = now_ns();
    if (stamp >= warm_until) lags.push_back(stamp - at);
    asio::write(pub->sock, asio::buffer(make.make(stamp)));
  }
  const double secs = (now_ns() - start) / 1e9;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the last ones arrive
  for (auto& c : subs) c->sock.shutdown(tcp::socket::shutdown_both);
  pub->sock.shutdown(tcp::socket::shutdown_both);
  for (auto& t : readers) t.join();
  std::cout << "qos=" << o.qos << " subscribers=" << o.subscribers << " rate=" << o.rate
            << " published_per_s=" << static_cast<long>(count / secs)
            << " deliveries_per_s=" << static_cast<long>(delivered.load() / secs) << " p50_us=" << pct_us(latencies, 0.50)
            << " p99_us=" << pct_us(latencies, 0.99) << " samples=" << latencies.size()
            << " send_lag_p99_us=" << pct_us(lags, 0.99) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    double v = std::stod(argv[i + 1]);
    if (k == "--port") o.port = int(v);
    else if (k == "--qos") o.qos = int(v);
    else if (k == "--subscribers") o.subscribers = int(v);
    else if (k == "--seconds") o.seconds = v;
    else if (k == "--rate") o.rate = v;
    else if (k == "--payload") o.payload = std::max<std::size_t>(8, std::size_t(v));
    else if (k == "--window") o.window = std::size_t(v);
    else if (k == "--idle") o.idle = int(v);
    else if (k == "--pid") o.pid = int(v);
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  try {
    if (o.idle) return run_idle(o);
    return o.rate > 0 ? run_open_loop(o) : run_closed_loop(o);
  } catch (const std::exception& e) {
    std::cerr << "mqtt_load: " << e.what() << "\n";
    return 1;
  }
}
