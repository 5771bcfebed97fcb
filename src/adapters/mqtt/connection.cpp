#include "connection.h"

#include <cstring>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace evmesh::mqtt {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// Reading (plain TCP): an idle connection holds no read buffer. It waits for the
// socket to become readable, reads into its thread's scratch buffer, handles the
// whole packets there and keeps only an incomplete packet's bytes (rbuf_), sized to
// them. TLS reads through OpenSSL's own buffering: a buffer that doubles while a
// burst or a large packet needs it and shrinks back after.
constexpr std::size_t kScratch = 64 * 1024;
constexpr int kReadsPerTurn = 8;  // reads in one go while the socket has more
constexpr std::size_t kReadChunk = 1024;
constexpr std::size_t kKeepWhenIdle = 4 * 1024;
constexpr std::size_t kMaxReadChunk = 64 * 1024;
// Bytes handed to the socket but not yet written: beyond it, deliveries wait in the
// session queue (bounded) instead of in memory no bound covers.
constexpr std::size_t kMaxOutboxBytes = 1024 * 1024;
// A slow subscriber being disconnected gets this long to take its DISCONNECT.
constexpr std::chrono::seconds kCloseGrace{1};

char* scratch() {
  thread_local std::unique_ptr<char[]> buffer(new char[kScratch]);
  return buffer.get();
}
}  // namespace

Connection::Connection(Transport socket, std::shared_ptr<ServerContext> ctx)
    : socket_(std::move(socket)), ctx_(std::move(ctx)),
      id_(ctx_->next_connection_id++) {
  ++ctx_->connections;
}

Connection::~Connection() { --ctx_->connections; }

std::string Connection::tag() const {
  return "mqtt#" + std::to_string(id_) + (client_id_.empty() ? "" : " '" + client_id_ + "'");
}

void Connection::start() {
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);  // latency must not wait on Nagle
  if (socket_.reads_on_demand()) socket_.socket().non_blocking(true, ec);  // read_now() must not block
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    self->arm_keepalive(self->ctx_->limits.connect_timeout);
    self->do_read();
  });
}

// Keep-alive and the connect timeout: a deadline on the server's KeepaliveWheel, not
// a timer per connection. A packet only moves the deadline on; the wheel's entry
// comes due at the old one and the connection files itself again then, so a busy
// connection does not touch the wheel for every read.
void Connection::arm_keepalive(std::chrono::milliseconds after) {
  keepalive_deadline_ = Clock::now() + after;
  if (in_wheel_ && wheel_due_ <= keepalive_deadline_) return;  // the entry there will re-file
  in_wheel_ = true;
  wheel_due_ = keepalive_deadline_;
  ctx_->keepalive->add(weak_from_this(), wheel_due_);
}

void Connection::stop_keepalive() { keepalive_deadline_ = Clock::time_point::max(); }

void Connection::keepalive_due() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_keepalive(); });
}

void Connection::on_keepalive() {
  const auto now = Clock::now();
  if (now < wheel_due_) return;  // an older entry: the one for wheel_due_ is still filed
  in_wheel_ = false;
  if (closed_ || keepalive_deadline_ == Clock::time_point::max()) return;
  if (now < keepalive_deadline_) {  // moved on since it was filed
    in_wheel_ = true;
    wheel_due_ = keepalive_deadline_;
    ctx_->keepalive->add(weak_from_this(), wheel_due_);
    return;
  }
  if (lingering_) return close_now();  // the close grace ended
  if (version_ == 0) {
    ctx_->log->debug("{}: no CONNECT within the connect timeout; closing", tag());
    close_now();
    return;
  }
  fail(reason::keep_alive_timeout, "no packet within 1.5 x the keep alive; closing");
}

void Connection::do_read() {
  if (closing_ || closed_) return;
  if (socket_.reads_on_demand()) {
    read_in_flight_ = true;
    socket_.async_wait_readable([self = shared_from_this()](const error_code& ec) { self->on_readable(ec); });
    return;
  }
  // Grow when the last read filled all the room (more is waiting) or room is short.
  if ((last_read_full_ && rbuf_.size() < kMaxReadChunk) || rbuf_.size() - rlen_ < kReadChunk / 2)
    rbuf_.resize(std::max(rbuf_.size() * 2, rlen_ + kReadChunk));
  read_in_flight_ = true;
  socket_.async_read_some(asio::buffer(rbuf_.data() + rlen_, rbuf_.size() - rlen_),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_readable(const error_code& ec) {
  read_in_flight_ = false;
  if (closed_) return;
  if (lingering_) {  // the wait was in flight when closing began
    if (ec) close_now();
    else discard_input();
    return;
  }
  if (ec) return read_failed(ec);
  // Read until the socket has nothing more (as async_read_some's speculative read
  // would: a streaming client is served without a trip through epoll per read), at
  // most kReadsPerTurn times before letting the other connections of this thread run.
  for (int turn = 0; turn < kReadsPerTurn; ++turn) {
    const auto r = read_now();
    if (r == ReadOutcome::stop) return;  // closing, or paused: unpause() reads on
    if (pauses_ > 0) {
      stop_keepalive();
      return;
    }
    if (r == ReadOutcome::drained) return do_read();
  }
  read_in_flight_ = true;  // linger() must not start a read meanwhile
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_readable({}); });
}

// Reads what the socket has into the scratch buffer, after the bytes of an incomplete
// packet, handles the whole packets there and keeps the rest in rbuf_. A packet
// larger than the scratch buffer is read straight into rbuf_, sized for it.
Connection::ReadOutcome Connection::read_now() {
  error_code ec;
  std::size_t n = 0, room = 0;
  if (want_ > kScratch || rlen_ >= kScratch) {  // a large packet
    if (rbuf_.size() == rlen_) rbuf_.resize(rlen_ + kReadChunk);
    room = rbuf_.size() - rlen_;
    n = socket_.read_now(asio::buffer(rbuf_.data() + rlen_, room), ec);
    if (!ec) {
      rlen_ += n;
      if (!process_frames()) return ReadOutcome::stop;
      if (rlen_ == 0) std::vector<char>().swap(rbuf_);
    }
  } else {
    char* buf = scratch();
    if (rlen_) std::memcpy(buf, rbuf_.data(), rlen_);
    room = kScratch - rlen_;
    n = socket_.read_now(asio::buffer(buf + rlen_, room), ec);
    if (!ec) {
      const auto have = rlen_ + n;
      const auto used = handle_frames(std::string_view(buf, have));
      if (closing_ || closed_) return ReadOutcome::stop;
      // Keep the bytes not handled: an incomplete packet (with room for all of it) or,
      // while paused, whole packets.
      rlen_ = have - used;
      if (rlen_ == 0) {
        std::vector<char>().swap(rbuf_);
      } else {
        rbuf_.assign(buf + used, buf + have);
        if (want_ > rlen_) rbuf_.resize(want_);
      }
    }
  }
  if (ec == asio::error::would_block || ec == asio::error::try_again) return ReadOutcome::drained;
  if (ec) {
    read_failed(ec);
    return ReadOutcome::stop;
  }
  if (keepalive_span_.count() > 0 && version_ != 0) arm_keepalive(keepalive_span_);
  return ReadOutcome::more;
}

void Connection::read_failed(const error_code& ec) {
  if (ec != asio::error::eof && ec != asio::error::operation_aborted)
    ctx_->log->debug("{}: read failed: {}", tag(), ec.message());
  close_now();
}

void Connection::on_read(const error_code& ec, std::size_t n) {
  read_in_flight_ = false;
  if (closed_) return;
  if (lingering_) {  // the read was in flight when closing began
    if (ec) close_now();
    else discard_input();
    return;
  }
  if (ec) return read_failed(ec);
  last_read_full_ = rlen_ + n == rbuf_.size();
  rlen_ += n;
  if (!process_frames()) return;
  if (pauses_ > 0) {  // unpause() reads on
    stop_keepalive();
    return;
  }
  if (rlen_ == 0 && n < kReadChunk && rbuf_.size() > kKeepWhenIdle) {  // a trickle again: give the burst buffer back
    rbuf_.resize(kReadChunk);
    rbuf_.shrink_to_fit();
  }
  if (keepalive_span_.count() > 0 && version_ != 0) arm_keepalive(keepalive_span_);
  do_read();
}

void Connection::unpause() {
  if (--pauses_ > 0 || closing_ || closed_) return;
  if (!process_frames() || pauses_ > 0) return;  // what was read meanwhile may pause again
  if (rlen_ == 0 && socket_.reads_on_demand()) std::vector<char>().swap(rbuf_);
  if (keepalive_span_.count() > 0) arm_keepalive(keepalive_span_);
  do_read();
}

void Connection::room() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->unpause(); });
}

void Connection::watch_slow() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->check_slow(); });
}

void Connection::check_slow() {
  if (closing_ || closed_ || !session_) return;
  std::optional<Clock::time_point> since;
  {
    std::lock_guard lock(session_->mutex);
    if (session_->owner == this) since = session_->full_since;
  }
  if (!since) return;  // drained meanwhile
  const auto timeout = ctx_->broker->limits().slow_subscriber_timeout;
  if (!slow_) slow_ = std::make_unique<asio::steady_timer>(socket_.get_executor());  // rare: only slow subscribers
  if (Clock::now() < *since + timeout) {
    slow_->expires_at(*since + timeout);
    slow_->async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->check_slow();
    });
    return;
  }
  ctx_->log->warn("{}: slow subscriber: its queue of {} messages stayed full for {} ms; disconnecting", tag(),
                  ctx_->broker->limits().max_queued_messages, timeout.count());
  fail(reason::quota_exceeded, "slow subscriber: the queue stayed full for " + std::to_string(timeout.count()) +
                                   " ms (mqtt.slow_subscriber_timeout)");
  // A client that reads nothing never takes the DISCONNECT: close anyway.
  slow_->expires_after(kCloseGrace);
  slow_->async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->close_now();
  });
}

bool Connection::process_frames() {
  const auto used = handle_frames(std::string_view(rbuf_.data(), rlen_));
  if (used) {
    std::memmove(rbuf_.data(), rbuf_.data() + used, rlen_ - used);
    rlen_ -= used;
  }
  if (rbuf_.size() < want_) rbuf_.resize(want_);  // one read can take the rest
  return !closing_ && !closed_;
}

std::size_t Connection::handle_frames(std::string_view data) {
  std::size_t pos = 0;
  want_ = 0;
  while (!closing_ && !closed_ && pauses_ == 0) {
    auto avail = data.substr(pos);
    auto header = parse_frame_header(avail);
    if (!header) {
      fail(header.error().reason, header.error().message);
      break;
    }
    if (!*header) break;
    const auto& h = **header;
    std::size_t total = h.header_size + h.remaining;
    if (total > ctx_->limits.max_packet_bytes) {
      fail(reason::packet_too_large, "a packet of " + std::to_string(total) + " bytes exceeds the maximum of " +
                                         std::to_string(ctx_->limits.max_packet_bytes));
      break;
    }
    if (avail.size() < total) {
      want_ = total;
      break;
    }
    auto packet = decode_packet(h.first, avail.substr(h.header_size, h.remaining), version_);
    pos += total;
    if (!packet) {
      if (version_ == 0)
        refuse_connect(packet.error());
      else
        fail(packet.error().reason, packet.error().message);
      break;
    }
    handle(std::move(*packet));
  }
  return pos;
}

void Connection::handle(Packet&& p) {
  // During CONNECT's authentication exchange only AUTH and DISCONNECT may come (4.12).
  if (pending_connect_ && !std::holds_alternative<Auth>(p) && !std::holds_alternative<Disconnect>(p))
    return refuse_connack(reason::protocol_error, 0, "only AUTH may follow CONNECT until the authentication ends");
  std::visit(
      [&](auto&& packet) {
        using T = std::decay_t<decltype(packet)>;
        if constexpr (std::is_same_v<T, Connect>) {
          on_connect(std::move(packet));
        } else if constexpr (std::is_same_v<T, Publish>) {
          on_publish(std::move(packet));
        } else if constexpr (std::is_same_v<T, Ack>) {
          on_ack(packet);
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          on_subscribe(packet);
        } else if constexpr (std::is_same_v<T, Unsubscribe>) {
          on_unsubscribe(packet);
        } else if constexpr (std::is_same_v<T, PingReq>) {
          send(PingResp{});
        } else if constexpr (std::is_same_v<T, Disconnect>) {
          on_disconnect(packet);
        } else if constexpr (std::is_same_v<T, Auth>) {
          on_auth(packet);
        } else {
          fail(reason::protocol_error, "a client must not send this packet type");
        }
      },
      std::move(p));
}

void Connection::send(const Packet& p) {
  Chunk c;
  encode_packet(p, version_ ? version_ : kMqtt5, c.head);
  outbox_bytes_ += c.head.size();
  outbox_.push_back(std::move(c));
  do_write();
}

bool Connection::send_publish(const Delivery& d, std::uint16_t packet_id, bool dup) {
  const Message& m = *d.msg;
  auto payload = m.payload_ptr_for(version_);
  const bool shareable =
      d.qos == 0 && !d.retain && d.subscription_ids.empty() && !m.expires_at && client_alias_maximum_ == 0;
  // Server-sent topic aliases (5.0 3.3.2.3.4): the first client_alias_maximum_
  // topics get one; a topic is sent by name with its alias once, then alias only.
  std::uint16_t alias = 0;
  bool new_alias = false;
  if (client_alias_maximum_) {
    if (auto it = outbound_aliases_.find(m.topic); it != outbound_aliases_.end()) {
      alias = it->second;
    } else if (outbound_aliases_.size() < client_alias_maximum_) {
      alias = static_cast<std::uint16_t>(outbound_aliases_.size() + 1);
      new_alias = true;
    }
  }
  auto head_of = [&] {
    Publish head;
    head.dup = dup;
    head.qos = d.qos;
    head.retain = d.retain;
    head.topic = m.topic;
    head.packet_id = d.qos ? packet_id : 0;
    if (version_ == kMqtt5) {
      head.props = m.props;
      head.props.subscription_ids = d.subscription_ids;
      if (m.expires_at) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(*m.expires_at - Clock::now()).count();
        head.props.message_expiry = static_cast<std::uint32_t>(std::max<long long>(left, 0));
      }
      if (alias) {
        head.props.topic_alias = alias;
        if (!new_alias) head.topic.clear();
      }
    }
    return head;
  };
  Chunk c;
  if (shareable) {
    const int slot = version_ == kMqtt5 ? 1 : 0;
    const std::string& head = m.qos0_head(slot, [&] {
      std::string bytes;
      encode_publish_head(head_of(), payload->size(), version_, bytes);
      return bytes;
    });
    c.shared_head = PayloadPtr(d.msg, &head);  // keeps the message, and so the head, alive
    if (client_max_packet_ && c.shared_head->size() + payload->size() > client_max_packet_) return false;
  } else {
    auto head = head_of();
    // A client's Maximum Packet Size: what it cannot take is discarded (3.1.2.11.4).
    if (client_max_packet_ && encoded_publish_size(head, payload->size(), version_) > client_max_packet_)
      return false;
    encode_publish_head(head, payload->size(), version_, c.head);
    if (new_alias) outbound_aliases_.emplace(m.topic, alias);  // only once the client gets it
  }
  outbox_bytes_ += (c.shared_head ? c.shared_head->size() : c.head.size()) + payload->size();
  c.payload = std::move(payload);
  outbox_.push_back(std::move(c));
  return true;
}

void Connection::schedule_flush() {
  // Dispatch, not post: when this connection's strand is free, the publisher's thread
  // writes to the subscriber at once instead of waking another thread to do it.
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->flush(); });
}

void Connection::flush() {
  if (closed_ || !session_) return;
  std::vector<RoomWaiterPtr> waiters;
  {
    std::lock_guard lock(session_->mutex);
    session_->flush_scheduled = false;
    if (session_->owner != this) return;
    auto now = Clock::now();
    flush_held_ = false;
    while (!session_->queue.empty()) {
      if (outbox_bytes_ >= kMaxOutboxBytes) {  // the socket is behind: on_write goes on
        flush_held_ = true;
        break;
      }
      auto& d = session_->queue.front();
      if (d.msg->expires_at && *d.msg->expires_at <= now) {  // expired while queued (3.3.2.3.3)
        session_->queue.pop_front();
        continue;
      }
      std::uint16_t pid = 0;
      if (d.qos > 0) {
        if (session_->inflight.size() >= client_receive_maximum_) break;
        pid = session_->next_packet_id();
        if (pid == 0) break;
      }
      if (!send_publish(d, pid, false)) {
        session_->queue.pop_front();
        continue;
      }
      if (d.qos > 0) session_->inflight.emplace(pid, Inflight{std::move(d), false});
      session_->queue.pop_front();
    }
    session_->queue.release_if_empty();
    waiters = session_->take_waiters(ctx_->broker->limits().max_queued_messages / 2);
  }
  for (const auto& w : waiters) w->room();
  do_write();
}

void Connection::resend_inflight() {
  std::lock_guard lock(session_->mutex);
  for (auto& [pid, f] : session_->inflight) {
    if (f.released)
      send(Ack{PacketType::pubrel, pid, reason::success, {}});
    else
      send_publish(f.delivery, pid, true);
  }
}

void Connection::do_write() {
  if (write_in_flight_ || outbox_.empty() || closed_) return;
  write_in_flight_ = true;
  writing_.swap(outbox_);
  writing_bytes_ = outbox_bytes_;  // writing_ was empty: all of it
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.size() * 2);
  for (const auto& c : writing_) {
    buffers.emplace_back(c.shared_head ? asio::buffer(*c.shared_head) : asio::buffer(c.head));
    if (c.payload && !c.payload->empty()) buffers.emplace_back(asio::buffer(*c.payload));
  }
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_write(ec, n); });
}

void Connection::on_write(const error_code& ec, std::size_t) {
  write_in_flight_ = false;
  writing_.clear();
  outbox_bytes_ -= std::exchange(writing_bytes_, 0);
  if (ec) {
    ctx_->log->debug("{}: write failed: {}", tag(), ec.message());
    close_now();
    return;
  }
  if (flush_held_ && !closing_) flush();
  if (!outbox_.empty()) {
    do_write();
    return;
  }
  if (closing_) linger();
}

void Connection::fail(std::uint8_t code, std::string why) {
  if (closing_ || closed_) return;
  ctx_->log->debug("{}: closing: reason 0x{:02x}: {}", tag(), code, why);
  if (version_ == kMqtt5 && connack_sent_) {
    Disconnect d{code, {}};
    if (problem_info_) d.props.reason_string = why.substr(0, 512);
    send(d);
  }
  close_after_write();
}

void Connection::refuse_connect(const DecodeError& e) {
  ctx_->log->debug("{}: CONNECT refused: reason 0x{:02x}: {}", tag(), e.reason, e.message);
  if (e.connect_version == kMqtt5) {
    version_ = kMqtt5;
    Connack ack{false, e.reason, {}};
    ack.props.reason_string = e.message.substr(0, 512);
    send(ack);
  } else if (e.reason == reason::unsupported_protocol_version) {
    // 3.1.1 3.1.2.2: an unsupported level gets return code 0x01 in the 3.1.1 form.
    version_ = kMqtt311;
    send(Connack{false, reason::v3_unacceptable_protocol, {}});
  }
  version_ = 0;
  close_after_write();
}

void Connection::close_after_write() {
  closing_ = true;
  if (!write_in_flight_ && outbox_.empty())
    linger();
  else
    do_write();
}

void Connection::linger() {
  if (closed_ || lingering_) return;
  lingering_ = true;
  if (slow_) slow_->cancel();
  finish();  // the session and will do not wait for the linger
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return close_now();
  arm_keepalive(kCloseGrace);  // the grace period's deadline closes (on_keepalive)
  // Posted: linger() may run inside process_frames(), which still owns rbuf_.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->read_in_flight_) self->discard_input();
  });
}

void Connection::discard_input() {
  if (closed_) return;
  rlen_ = 0;
  if (rbuf_.size() < kReadChunk) rbuf_.resize(kReadChunk);
  read_in_flight_ = true;
  socket_.async_read_some(asio::buffer(rbuf_), [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->read_in_flight_ = false;
    if (ec || self->closed_) return self->close_now();
    self->discard_input();
  });
}

void Connection::close_now() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  stop_keepalive();
  if (slow_) slow_->cancel();
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  finish();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  if (!session_) return;
  std::uint64_t dropped_qos0 = 0;
  {
    std::lock_guard lock(session_->mutex);
    dropped_qos0 = std::exchange(session_->dropped_qos0, 0);
  }
  if (dropped_qos0)
    ctx_->log->warn("{}: {} QoS 0 message(s) were dropped while its queue was full", tag(), dropped_qos0);
  ctx_->broker->detach(session_, this, session_expiry_, std::exchange(will_, nullptr), will_delay_);
  session_.reset();
}

void Connection::take_over() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->fail(reason::session_taken_over, "another connection took over the client id");
  });
}

void Connection::shut_down() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->version_ == 0) {
      self->close_now();
      return;
    }
    self->fail(reason::server_shutting_down, "the server is shutting down");
  });
}

}  // namespace evmesh::mqtt
