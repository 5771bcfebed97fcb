// Sink: where a subscription's events go (a webhook, later a gRPC stream, an MQTT
// topic, a bridge). The runtime knows only this interface; adapters implement it and
// the daemon wires a SinkFactory in.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "evmesh/core/event.h"

namespace evmesh {

enum class DeliveryMode { binary, structured };

// Where and how to deliver. `uri` is the subscription's sink; `protocol` the
// Subscriptions API protocol name ("HTTP").
struct SinkSpec {
  std::string uri;
  std::string protocol = "HTTP";
  std::string method = "POST";                                  // protocolsettings.method
  std::vector<std::pair<std::string, std::string>> headers;     // protocolsettings.headers
  DeliveryMode mode = DeliveryMode::binary;
  std::chrono::milliseconds timeout{10'000};                    // per attempt, connect + response
  // Deliveries the owning subscription runs at once (its delivery.concurrency). Not
  // part of the Subscriptions API's sink: the runtime sets it when it makes the sink,
  // so that a sink with a connection pool can keep that many connections open.
  std::uint32_t concurrency = 1;
  friend bool operator==(const SinkSpec&, const SinkSpec&) = default;
};

struct DeliveryOutcome {
  enum class Kind {
    delivered,  // 2xx
    retry,      // 5xx, 408, 429, timeout, connection refused/reset
    permanent,  // any other 4xx: retrying cannot help
  };
  Kind kind = Kind::delivered;
  int status = 0;         // protocol status (HTTP code); 0 when no response
  std::string error;      // what went wrong, for logs and dead-letter attributes
  std::optional<std::chrono::milliseconds> retry_after;  // sink asked us to wait
};

// Contract: send() may be called from any thread, concurrently; `done` is called
// exactly once, on any thread, unless close() was called first (then it may be
// called with a retry outcome or not at all). The event is kept alive by the sink
// until `done` runs.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) = 0;
  // In-order delivery with several sends in flight (HTTP/1.1 pipelining): how many
  // send_ordered() calls may be outstanding at once. 1 = the sink cannot keep order
  // across overlapping sends, and the dispatcher sends one event at a time.
  virtual std::size_t ordered_window() const { return 1; }
  // Like send(), but the sink sends the events of successive calls in call order over
  // one channel and calls their `done` in that same order. Call from one thread at a
  // time (the dispatcher's strand). `done` may run the dispatcher at once, which may
  // call send_ordered() again before `done` returns: call it with the sink's own
  // state consistent.
  virtual void send_ordered(EventPtr ev, std::function<void(DeliveryOutcome)> done) {
    send(std::move(ev), std::move(done));
  }
  // Stops new work and closes idle connections. In-flight sends finish or fail.
  virtual void close() = 0;
};

class SinkFactory {
 public:
  virtual ~SinkFactory() = default;
  // Validates the spec (scheme, host, port) and makes a sink. Errors are
  // invalid_subscription with pointer "sink" naming what is wrong.
  virtual Result<std::shared_ptr<Sink>> make(const SinkSpec& spec) = 0;
};

}  // namespace evmesh
