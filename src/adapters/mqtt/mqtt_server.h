// MqttServer: the native MQTT 3.1.1 / 5.0 listener of evmeshd (docs/protocols.md).
// Owns the acceptor, the broker state and the link to the mesh. Start in order:
// construct (after the Runtime), wire sinks() into the daemon's sink router,
// start() (loads mqtt.tls, binds, logs "mqtt listener on HOST:PORT"), link_mesh(). Stop:
// stop_accepting(), then close_all() (5.0 clients get DISCONNECT 0x8B).
#pragma once

#include <cstdint>
#include <memory>

#include "evmesh/control/access_control.h"
#include "evmesh/control/config.h"
#include "evmesh/runtime/io_pool.h"
#include "evmesh/runtime/runtime.h"
#include "tls/server_tls.h"

namespace evmesh::mqtt {

// The listener's own subscription (mesh -> MQTT subscribers): its id, and the sink
// protocol the daemon's sink router sends to sinks().
inline constexpr std::string_view kListenerSubscriptionId = "mqtt-listener";
inline constexpr std::string_view kListenerProtocol = "MQTT-LISTENER";

class MqttServer {
 public:
  // `access` (may be null: no authentication) must outlive the server.
  MqttServer(IoPool& io, const control::MqttListenerConfig& config, Runtime& runtime,
             const control::AccessControl* access = nullptr);
  ~MqttServer();

  // The sink factory for the listener's own subscription (protocol kListenerProtocol).
  SinkFactory& sinks();
  Result<void> start();
  // Creates the catch-all subscription that carries mesh events to MQTT subscribers.
  Result<void> link_mesh(const DeliveryPolicy& delivery);
  std::uint16_t port() const;
  // The TLS context new connections get (mqtt.tls), after start(); null for plain TCP.
  std::shared_ptr<tls::ServerTls> tls() const;
  void stop_accepting();
  void close_all();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace evmesh::mqtt
