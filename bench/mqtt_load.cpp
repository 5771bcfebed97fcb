// mqtt_load: an MQTT 3.1.1 load generator on raw sockets (no client library in the
// way), so evmeshd and mosquitto are measured by the same code (bench/mqtt_bench.sh).
//
//   mqtt_load --port P --qos 0|1 --subscribers N --seconds S [--rate R] [--payload 256]
//     One publisher, N subscribers on one topic. Without --rate: as fast as the
//     broker goes, the publisher keeping at most --window messages not yet received
//     by every subscriber (and, at QoS 1, not yet PUBACKed). With --rate: open loop
//     at R msgs/s, latency measured from each message's scheduled send time (free of
//     coordinated omission). The payload starts with that time in nanoseconds.
//     Prints one line: msgs/s published, deliveries/s, p50/p99 latency in us.
//   mqtt_load --port P --idle N [--pid PID]
//     Opens N connections (CONNECT/CONNACK), then reports PID's RSS growth per
//     connection (kB), measured before and after.
//
// Single-threaded (one io_context): the tool's own cost stays the same for both brokers.
#include <algorithm>
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

struct Stats {
  std::uint64_t published = 0, acked = 0;
  std::vector<std::uint64_t> received;  // per subscriber
  std::vector<std::int64_t> latencies;  // ns, after warm-up
  std::int64_t warm_until = 0;
  std::uint64_t min_received() const { return *std::min_element(received.begin(), received.end()); }
};

// A connection that reads packets and writes batches (one write in flight).
struct Conn : std::enable_shared_from_this<Conn> {
  Conn(asio::io_context& io) : sock(io) {}
  tcp::socket sock;
  std::vector<char> rbuf = std::vector<char>(1 << 16);
  std::size_t rlen = 0;
  std::string out, writing;
  bool writing_now = false;
  std::function<void(unsigned char, std::string_view)> on_packet;
  std::function<void()> on_written;

  void start_read() {
    sock.async_read_some(asio::buffer(rbuf.data() + rlen, rbuf.size() - rlen),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                           if (ec) return;
                           self->rlen += n;
                           auto used = parse(self->rbuf.data(), self->rlen, self->on_packet);
                           std::memmove(self->rbuf.data(), self->rbuf.data() + used, self->rlen - used);
                           self->rlen -= used;
                           if (self->rlen == self->rbuf.size()) self->rbuf.resize(self->rbuf.size() * 2);
                           self->start_read();
                         });
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

int run_load(const Options& o) {
  asio::io_context io;
  Stats st;
  st.received.assign(o.subscribers, 0);
  const std::string topic = "bench/t";
  std::vector<std::shared_ptr<Conn>> subs;
  for (int i = 0; i < o.subscribers; ++i) {
    auto c = open(io, o.port, "sub-" + std::to_string(i));
    auto sp = subscribe_packet(topic, o.qos);
    asio::write(c->sock, asio::buffer(sp));
    char suback[5];
    asio::read(c->sock, asio::buffer(suback, 5));
    Conn* raw = c.get();
    c->on_packet = [&st, i, raw, &o](unsigned char first, std::string_view body) {
      if ((first >> 4) != 3) return;
      std::size_t tlen = static_cast<unsigned char>(body[0]) << 8 | static_cast<unsigned char>(body[1]);
      std::size_t off = 2 + tlen;
      int qos = (first >> 1) & 3;
      if (qos) {
        char ack[4] = {0x40, 2, body[off], body[off + 1]};
        raw->send(std::string_view(ack, 4));
        off += 2;
      }
      ++st.received[i];
      if (i == 0 && body.size() >= off + 8) {
        std::int64_t sent;
        std::memcpy(&sent, body.data() + off, 8);
        if (sent >= st.warm_until) st.latencies.push_back(now_ns() - sent);
      }
      (void)o;
    };
    c->start_read();
    subs.push_back(c);
  }
  auto pub = open(io, o.port, "pub");
  std::string payload(o.payload, 'x');
  std::uint16_t pid = 0;
  auto make_publish = [&](std::int64_t stamp) {
    std::memcpy(payload.data(), &stamp, 8);
    std::string b;
    put_str(b, topic);
    if (o.qos) put_u16(b, pid = static_cast<std::uint16_t>(pid % 65535 + 1));
    b += payload;
    return frame(static_cast<unsigned char>(0x30 | (o.qos << 1)), b);
  };
  pub->on_packet = [&](unsigned char first, std::string_view) {
    if ((first >> 4) == 4) ++st.acked;
  };
  pub->start_read();

  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  st.warm_until = now_ns() + 1'000'000'000LL / 2;  // first half second is warm-up
  bool stop = false;
  asio::steady_timer tick(io);
  std::uint64_t scheduled = 0;
  std::function<void()> pump;
  pump = [&] {
    if (stop) return;
    if (o.rate > 0) {
      // Open loop: send everything due by now, stamped with its scheduled time.
      auto due = static_cast<std::uint64_t>(std::chrono::duration<double>(Clock::now() - start).count() * o.rate);
      std::string batch;
      for (; scheduled < due; ++scheduled) {
        auto at = std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count() +
                  static_cast<std::int64_t>(scheduled * 1e9 / o.rate);
        batch += make_publish(at);
        ++st.published;
      }
      if (!batch.empty()) pub->send(batch);
      tick.expires_after(std::chrono::microseconds(100));
      tick.async_wait([&](boost::system::error_code ec) {
        if (!ec) pump();
      });
      return;
    }
    // Closed loop within a window of messages not yet delivered everywhere.
    std::uint64_t done = std::min(st.min_received(), o.qos ? st.acked : st.published);
    std::string batch;
    while (st.published - done < o.window && batch.size() < 64 * 1024) {
      batch += make_publish(now_ns());
      ++st.published;
    }
    if (!batch.empty()) pub->send(batch);
    tick.expires_after(std::chrono::microseconds(50));
    tick.async_wait([&](boost::system::error_code ec) {
      if (!ec) pump();
    });
  };
  pub->on_written = [&] { pump(); };
  pump();
  asio::steady_timer finish(io, end);
  std::uint64_t received_at_end = 0, published_at_end = 0;
  finish.async_wait([&](boost::system::error_code) {
    stop = true;
    published_at_end = st.published;
    for (auto r : st.received) received_at_end += r;
    io.stop();
  });
  io.run();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  auto& l = st.latencies;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, std::size_t(p * l.size()))] / 1000.0; };
  std::cout << "qos=" << o.qos << " subscribers=" << o.subscribers << " rate=" << o.rate
            << " published_per_s=" << static_cast<long>(published_at_end / secs)
            << " deliveries_per_s=" << static_cast<long>(received_at_end / secs)
            << " p50_us=" << pct(0.50) << " p99_us=" << pct(0.99) << " samples=" << l.size() << "\n";
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
    return o.idle ? run_idle(o) : run_load(o);
  } catch (const std::exception& e) {
    std::cerr << "mqtt_load: " << e.what() << "\n";
    return 1;
  }
}
