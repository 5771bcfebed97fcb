// Connection: one MQTT network connection, 3.1.1 or 5.0, on its own strand.
//
// Reads frames (fixed header, then the body once it is all there; a packet over
// max_packet_bytes closes the connection with 0x95), decodes them strictly
// (codec.h) and hands each to its handler (handle_*.cpp). Writes are batched: every
// packet produced while a write is in flight joins the next gather write, and a
// PUBLISH is a small per-subscriber head plus the shared payload buffer.
// Backpressure (session.h): the outbox holds at most kMaxOutboxBytes, the rest
// waits in the session queue. While a publish waits — for room in a full subscriber
// queue, or for the store to commit it (a durable subscription matched) — the
// connection pauses: it reads no further packet and keep-alive is not enforced.
// Keep-alive: no packet for 1.5 x the keep alive closes with 0x8D. A protocol
// violation closes with its reason code: a DISCONNECT (5.0, after CONNACK) or a
// CONNACK carrying the reason (during CONNECT), then the socket.
// Closing is graceful: once the last packet is written the write side is shut
// (FIN) and input is read and discarded until the client closes or kCloseGrace
// passes. Closing with unread input would make the kernel send a reset, which can
// destroy the DISCONNECT before the client reads it (MQTT 5.0 4.13).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "codec.h"
#include "lazy.h"
#include "evmesh/control/scram.h"
#include "message.h"
#include "server_context.h"
#include "transport.h"

namespace evmesh::mqtt {

class Connection : public std::enable_shared_from_this<Connection>, public RoomWaiter {
 public:
  using tcp = boost::asio::ip::tcp;
  Connection(Transport socket, std::shared_ptr<ServerContext> ctx);
  ~Connection();

  void start();
  // Any thread: the session has deliveries waiting.
  void schedule_flush();
  // Any thread: another connection took over this client id (0x8E).
  void take_over();
  // Any thread: the server is stopping (0x8B).
  void shut_down();
  // Any thread: a subscriber queue this connection published into has room again.
  void room() override;
  // Any thread: this connection's session queue became full with publishers waiting:
  // disconnect (0x97) unless it drains to half within slow_subscriber_timeout.
  void watch_slow();
  // Any thread (KeepaliveWheel): a keep-alive deadline filed on the wheel came due.
  void keepalive_due();

 private:
  friend struct Handlers;
  // Reading
  // Plain TCP: wait for readable, read_now() (no buffer held while idle). TLS:
  // async_read_some into rbuf_.
  enum class ReadOutcome { drained, more, stop };
  void do_read();
  void on_readable(const boost::system::error_code& ec);
  ReadOutcome read_now();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void read_failed(const boost::system::error_code& ec);
  bool process_frames();  // rbuf_; false when the connection is closing
  // Handles the whole packets at the front of `data` until the connection pauses or
  // closes; returns the bytes used. want_: the size of the incomplete packet next.
  std::size_t handle_frames(std::string_view data);
  void handle(Packet&& p);
  // Keep-alive (and the connect timeout): a lazy deadline on ctx_->keepalive.
  void arm_keepalive(std::chrono::milliseconds after);
  void stop_keepalive();
  void on_keepalive();
  void pause() { ++pauses_; }
  void unpause();  // the last pause ended: read on
  void check_slow();

  // Handlers (handle_connect.cpp, handle_publish.cpp, handle_subscribe.cpp)
  void on_connect(Connect&& c);
  // CONNECT authenticated (principal_ set): session, CONNACK (carrying `auth_reply`,
  // the last Authentication Data of an enhanced authentication).
  void accept_connect(Connect&& c, std::optional<std::string> auth_reply);
  void refuse_connack(std::uint8_t v5_reason, std::uint8_t v3_code, std::string why);
  // Enhanced authentication (handle_auth.cpp).
  void start_auth(Connect&& c);
  void on_auth(const Auth& a);
  void send_auth(std::uint8_t code, std::string data);
  void on_publish(Publish&& p);
  void on_ack(const Ack& a);
  void on_subscribe(const Subscribe& s);
  void on_unsubscribe(const Unsubscribe& u);
  void on_disconnect(const Disconnect& d);
  // The message a PUBLISH carries (aliases resolved, ACL checked), or null when
  // refused or failed; `decoded` gets the CloudEvent when the ACL needed it.
  MessagePtr accept_inbound(Publish& p, EventPtr& decoded);
  // The mesh admitted (and, for a durable match, committed) the message: route it
  // to MQTT subscribers and acknowledge.
  void route_and_ack(const MessagePtr& m, std::uint8_t qos, std::uint16_t packet_id);
  // Hands the message to the mesh; the connection stays paused until it is settled.
  // `overloaded_since`: set while retrying a mesh that answered overloaded.
  void ingest(const MessagePtr& m, EventPtr decoded, std::uint8_t qos, std::uint16_t packet_id,
              std::optional<Clock::time_point> overloaded_since = std::nullopt,
              std::chrono::milliseconds next_pause = std::chrono::milliseconds(1));
  // PUBLISH refused (ACL or not a CloudEvent): the ack says so in 5.0 (3.1.1 has no
  // way to say no: a normal ack, the message is dropped).
  void refuse_publish(std::uint8_t qos, std::uint16_t packet_id, const std::string& topic, std::uint8_t reason,
                      const std::string& why);

  // Writing
  void send(const Packet& p);
  // False when the packet would exceed the client's Maximum Packet Size (not sent).
  bool send_publish(const Delivery& d, std::uint16_t packet_id, bool dup);
  void flush();  // session queue -> outbox, within the client's receive maximum
  void resend_inflight();
  void do_write();
  void on_write(const boost::system::error_code& ec, std::size_t n);

  // Ending
  void fail(std::uint8_t reason, std::string why);  // protocol violation: tell, then close
  void refuse_connect(const DecodeError& e);  // a CONNECT that did not decode
  void close_after_write();
  void linger();          // written all: FIN, discard input, then close_now
  void discard_input();
  void close_now();
  void finish();  // detach from the broker exactly once

  std::string tag() const;  // "mqtt#12 client-id" for logs

  Transport socket_;  // plain TCP or TLS (mqtt.tls)
  std::shared_ptr<ServerContext> ctx_;
  Clock::time_point keepalive_deadline_ = Clock::time_point::max();  // max: none
  Clock::time_point wheel_due_{};  // the latest entry filed on the wheel
  // slow_subscriber_timeout, then the close grace; made for a slow subscriber only.
  std::unique_ptr<boost::asio::steady_timer> slow_;
  std::uint64_t id_;
  std::string client_id_;

  // Bytes read but not handled yet (plain TCP: empty while idle, see do_read).
  std::vector<char> rbuf_;
  std::uint32_t rlen_ = 0;  // (32 bits: a packet is at most 256 MiB)
  std::uint32_t want_ = 0;  // the incomplete packet's size, once its header is in

  struct Chunk {
    std::string head;
    PayloadPtr shared_head;  // instead of head: a QoS 0 head shared across the fan-out
    PayloadPtr payload;  // shared PUBLISH payload, may be null
  };
  std::vector<Chunk> outbox_, writing_;
  std::size_t outbox_bytes_ = 0;   // in outbox_ and writing_
  std::size_t writing_bytes_ = 0;
  bool flush_held_ = false;        // flush() stopped at kMaxOutboxBytes: go on after a write
  std::uint16_t pauses_ = 0;       // publishes waiting (room, commit): no reading meanwhile
  bool write_in_flight_ = false;
  bool read_in_flight_ = false;
  bool lingering_ = false;  // write side shut, discarding input until close
  bool closing_ = false;   // no more reads; close once the outbox is written
  bool closed_ = false;
  bool finished_ = false;
  // (Small fields together: an idle connection's size decides its allocation class.)
  bool in_wheel_ = false;        // an entry for wheel_due_ is filed
  bool last_read_full_ = false;  // TLS: grow the read buffer

  // Set by CONNECT.
  std::uint8_t version_ = 0;  // 0 until CONNECT
  bool connack_sent_ = false;
  bool connect_expiry_zero_ = true;
  bool problem_info_ = true;  // 5.0 Request Problem Information
  std::chrono::duration<std::uint32_t, std::milli> keepalive_span_{0};  // fits: 1.5 x 65535 s
  std::uint32_t session_expiry_ = 0;
  SessionPtr session_;
  control::Principal principal_;  // who CONNECT authenticated as
  MessagePtr will_;
  std::uint32_t will_delay_ = 0;
  std::uint16_t client_receive_maximum_ = 65535;
  std::uint16_t client_alias_maximum_ = 0;  // 5.0 CONNECT Topic Alias Maximum
  std::uint32_t client_max_packet_ = 0;  // 0 = no limit
  Lazy<std::unordered_map<std::uint16_t, std::string>> inbound_aliases_;
  std::string auth_method_;                         // CONNECT's; empty: none
  std::unique_ptr<Connect> pending_connect_;        // waiting for its AUTH exchange to end (rare: out of line)
  std::unique_ptr<control::ScramServer> scram_;     // the exchange in progress
  Lazy<std::unordered_map<std::string, std::uint16_t>> outbound_aliases_;
};

}  // namespace evmesh::mqtt
