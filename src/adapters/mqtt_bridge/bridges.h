// MqttBridges: every configured bridge to an external MQTT broker
// (config.mqtt_bridges, docs/mqtt-bridges.md), and the SinkFactory for
// subscriptions with protocol "MQTT".
//
// A bridge is two Paho clients with persistent sessions: "<client_id>-in" subscribes
// to the bridge's topic filters and ingests (Ingest), "<client_id>-out" publishes
// routed events (Publisher). Two clients, so that on shutdown ingest stops first -
// the broker keeps queueing for our session - while deliveries drain through the
// publishing client.
//
// Lifecycle (daemon): create() before the Runtime (it is the runtime's sink
// factory), start(runtime) after it, stop_ingest() on SIGTERM before the drain,
// stop() after it. All from one thread; make() from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "evmesh/control/config.h"
#include "evmesh/core/sink.h"
#include "evmesh/runtime/runtime.h"

namespace evmesh::mqtt_bridge {

class Connection;
class Ingest;
class Publisher;

class MqttBridges final : public SinkFactory {
 public:
  // Builds the clients (no connection yet). Errors (internal) name the bridge
  // when Paho refuses its URL or client id.
  static Result<std::unique_ptr<MqttBridges>> create(
      boost::asio::any_io_executor ex, const std::vector<control::MqttBridgeConfig>& configs);
  ~MqttBridges() override;

  // "mqtt://BRIDGE/TOPIC": the bridge must exist, the topic template be valid.
  Result<std::shared_ptr<Sink>> make(const SinkSpec& spec) override;

  // Connects every bridge; a broker that is down is retried with backoff.
  void start(Runtime& runtime);
  void stop_ingest();
  void stop();
  bool empty() const { return bridges_.empty(); }

 private:
  struct Bridge {
    control::MqttBridgeConfig config;
    std::shared_ptr<Connection> in;  // null when the bridge subscribes to nothing
    std::unique_ptr<Ingest> ingest;
    std::shared_ptr<Publisher> publisher;
  };
  MqttBridges() = default;

  std::map<std::string, Bridge, std::less<>> bridges_;
};

}  // namespace evmesh::mqtt_bridge
