#include "adapters/http/connection_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace evmesh::http {
// An idle keep-alive connection should have nothing to read. A zero-byte peek
// means the server closed it (FIN already here); bytes mean it sent something
// unsolicited. Either way it must not carry another request. Checking here is
// cheap and avoids most stale-connection retries (and the duplicate deliveries a
// retry can cause when the server did read the request).
bool looks_alive(boost::beast::tcp_stream& stream) {
  if (!stream.socket().is_open()) return false;
  char byte;
  auto n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

PooledConnection::PooledConnection(const boost::asio::any_io_executor& ex)
    : stream(boost::asio::make_strand(ex)) {}

void PooledConnection::close() {
  boost::beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  stream.close();
  buffer.clear();
}

ConnectionPool::ConnectionPool(boost::asio::any_io_executor ex, std::size_t max_idle)
    : ex_(std::move(ex)), max_idle_(max_idle) {}

std::shared_ptr<PooledConnection> ConnectionPool::acquire() {
  for (;;) {
    std::shared_ptr<PooledConnection> conn;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return nullptr;
      if (idle_.empty()) break;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    // Checked out: no I/O is pending and no one else holds it, so peeking at the
    // socket off its strand is safe. Closing still goes through the strand, where
    // a cancelled timeout handler of the last operation may yet run.
    if (looks_alive(conn->stream)) return conn;
    boost::asio::post(conn->stream.get_executor(), [conn] { conn->close(); });
  }
  return std::make_shared<PooledConnection>(ex_);
}

std::shared_ptr<PooledConnection> ConnectionPool::fresh() {
  if (closed()) return nullptr;
  return std::make_shared<PooledConnection>(ex_);
}

void ConnectionPool::release(std::shared_ptr<PooledConnection> conn, bool reusable) {
  if (reusable && conn->is_open()) {
    std::lock_guard lock(mutex_);
    if (!closed_ && idle_.size() < max_idle_) {
      idle_.push_back(std::move(conn));
      return;
    }
  }
  conn->close();
}

void ConnectionPool::close() {
  std::vector<std::shared_ptr<PooledConnection>> idle;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    idle.swap(idle_);
  }
  for (auto& conn : idle)
    boost::asio::post(conn->stream.get_executor(), [conn] { conn->close(); });
}

bool ConnectionPool::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::size_t ConnectionPool::idle_count() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace evmesh::http
