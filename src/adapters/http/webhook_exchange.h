// One delivery attempt of a webhook sink: request out, response in, outcome to
// `done`. Owns itself (shared_from_this) from start() until `done` has run.
//
// Steps, all on the strand of the connection in use:
//   [resolve -> connect]  only when the connection is fresh; resolved once per connect
//   write -> read          response body read and discarded (bounded)
//   finish                 connection back to the pool (or closed), then `done`
// One deadline (SinkSpec::timeout) covers the whole attempt; the connect phase is
// also bounded by WebhookOptions::connect_timeout. A pooled connection that fails
// on write or read before any response byte arrived is replaced by a fresh one,
// once, within the same deadline.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/beast/core/error.hpp>

#include "adapters/http/connection_pool.h"
#include "adapters/http/webhook_config.h"

namespace evmesh::http {

using DeliveryDone = std::function<void(DeliveryOutcome)>;

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  // `request`: the whole request as it goes on the wire.
  Exchange(std::shared_ptr<const WebhookConfig> config, std::shared_ptr<ConnectionPool> pool, EventPtr ev,
           std::string request, DeliveryDone done);
  ~Exchange();

  // Runs the attempt on `conn` (from ConnectionPool::acquire). Any thread.
  void start(std::shared_ptr<PooledConnection> conn);
  // Completes without running (e.g. no connection: the sink is closed). Any thread.
  void abandon(DeliveryOutcome outcome) { finish(std::move(outcome), false); }

 private:
  struct Response;  // parser for one response, defined in the .cpp

  void run_on(std::shared_ptr<PooledConnection> conn);
  void step();
  void on_open(std::string error);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);

  // Whether a failure on a reused connection should be retried on a fresh one.
  bool stale_connection(boost::beast::error_code ec) const;
  void retry_on_fresh_connection();
  void fail(std::string error);
  void finish(DeliveryOutcome outcome, bool keep_connection);

  std::shared_ptr<const WebhookConfig> config_;
  std::shared_ptr<ConnectionPool> pool_;
  EventPtr ev_;  // kept alive until done, as the Sink contract promises
  std::string request_;
  DeliveryDone done_;

  std::chrono::steady_clock::time_point deadline_;
  std::shared_ptr<PooledConnection> conn_;
  std::unique_ptr<Response> response_;
  bool retried_ = false;
};

}  // namespace evmesh::http
