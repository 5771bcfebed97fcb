// Keep-alive connections of one webhook sink, all to the same host:port.
//
// A PooledConnection is either idle (owned by the pool, no operation pending) or
// checked out by exactly one Exchange, which touches it only on the connection's
// strand. The pool itself is a mutex-guarded stack of idle connections: the most
// recently used one is handed out first (least likely to have been closed by the
// server's idle timeout), and at most `max_idle` are kept.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace evmesh::http {

struct PooledConnection {
  explicit PooledConnection(const boost::asio::any_io_executor& ex);

  // Shuts the socket down. Call on the strand (or when no operation is pending).
  void close();
  bool is_open() const { return stream.socket().is_open(); }

  boost::beast::tcp_stream stream;  // its executor is this connection's own strand
  boost::beast::flat_buffer buffer;  // read buffer, empty between responses
  std::size_t responses = 0;        // responses read so far; > 0 means reused
};

// Whether an idle keep-alive connection may carry another request: open, and
// nothing to read (no FIN, no unsolicited bytes). Call with no operation pending.
bool looks_alive(boost::beast::tcp_stream& stream);

class ConnectionPool {
 public:
  ConnectionPool(boost::asio::any_io_executor ex, std::size_t max_idle);

  // An idle connection that still looks alive, else a fresh unconnected one.
  // nullptr once the pool is closed. Any thread.
  std::shared_ptr<PooledConnection> acquire();
  // Always a fresh unconnected connection (after a pooled one turned out stale).
  // nullptr once closed. Any thread.
  std::shared_ptr<PooledConnection> fresh();
  // Hands a connection back after an exchange, on its strand. Kept idle when
  // `reusable`, the pool is open and below max_idle; closed otherwise.
  void release(std::shared_ptr<PooledConnection> conn, bool reusable);
  // Refuses further acquire() and closes every idle connection. Any thread.
  void close();

  bool closed() const;
  std::size_t idle_count() const;

 private:
  boost::asio::any_io_executor ex_;
  std::size_t max_idle_;
  mutable std::mutex mutex_;
  bool closed_ = false;                                 // guarded by mutex_
  std::vector<std::shared_ptr<PooledConnection>> idle_;  // guarded by mutex_
};

}  // namespace evmesh::http
