// In-order delivery over one keep-alive connection with HTTP/1.1 pipelining
// (RFC 9112 §9.3.2): the requests of successive send() calls are written back to
// back, several per write, up to `depth` unanswered; responses come back in request
// order and complete each request's `done` in that order. In-order delivery then
// costs one round trip per window of events, not one per event.
//
// Connection loss:
//   - a response with "Connection: close", or a close after some responses with
//     requests still unanswered: the sink does not keep connections for pipelining.
//     The unanswered requests go again, in order, on a fresh connection, and the depth
//     drops to 1 for the rest of the sink's life (one request at a time, like the
//     Exchange).
//   - a failure on a connection that answered before, with no byte of the next
//     response (a keep-alive connection the sink closed while idle): the unanswered
//     requests go again on a fresh connection, once each.
//   - anything else (refused, reset on a fresh connection, bad response, resent
//     request lost again): every unanswered request fails with a retry outcome; the
//     dispatcher decides what is next.
// Each request has a deadline (SinkSpec::timeout) from its write; when the oldest
// one's passes, it fails, the connection is closed, and the rest go again.
// All state lives on the pipeline's strand; send() and close() are callable from
// any thread. send() appends to a small mutex-guarded inbox and posts to the strand
// only when it was empty: a dispatcher sending a window of events costs one hop.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "adapters/http/webhook_config.h"
#include "evmesh/core/sink.h"

namespace evmesh::http {

class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  using Done = std::function<void(DeliveryOutcome)>;

  Pipeline(boost::asio::any_io_executor ex, std::shared_ptr<const WebhookConfig> config, std::size_t depth);

  // Queues `request` (the whole request as it goes on the wire) behind every
  // earlier one. Any thread.
  void send(EventPtr ev, std::string request, Done done);
  // Fails everything queued or unanswered ("sink closed") and closes the connection.
  void close();

 private:
  struct Entry {
    EventPtr ev;  // kept alive until done, as the Sink contract promises
    std::string wire;
    Done done;
    std::chrono::steady_clock::time_point deadline{};
    bool resent = false;
  };
  struct Connection;

  void drain_inbox();
  void pump();
  void open();
  void on_open(const std::shared_ptr<Connection>& conn, std::string error);
  void write();
  void on_write(const std::shared_ptr<Connection>& conn, boost::system::error_code ec);
  void read();
  void on_read(const std::shared_ptr<Connection>& conn, boost::system::error_code ec);
  void arm_timer();
  void on_timer();
  // The connection is done for; `error` is why, for requests that fail.
  void lost(std::string error, bool resend_unanswered, bool mark_resent);
  void drop_connection();
  void complete_front(DeliveryOutcome outcome);
  void fail_all(std::deque<Entry>& entries, const std::string& error);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::shared_ptr<const WebhookConfig> config_;
  std::size_t depth_;
  std::shared_ptr<Connection> conn_;  // null: none yet (or the last one was dropped)
  std::deque<Entry> pending_;          // not written yet
  std::deque<Entry> sent_;             // written, waiting for their response, oldest first
  boost::asio::steady_timer timer_;    // the oldest sent request's deadline
  bool timer_armed_ = false;
  static constexpr unsigned kMaxInPlace = 16;
  unsigned in_place_ = 0;  // nesting of answers parsed from the buffer (read())
  bool closed_ = false;
  std::mutex inbox_mutex_;
  std::vector<Entry> inbox_;   // guarded by inbox_mutex_
  bool drain_posted_ = false;  // guarded by inbox_mutex_
  std::vector<Entry> draining_;  // strand-only: swapped with inbox_
};

}  // namespace evmesh::http
