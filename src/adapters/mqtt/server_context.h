// What every MQTT connection shares: limits, the broker, the link to the mesh,
// the logger and the registry of live connections (for shutdown).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>

#include "broker.h"
#include "keepalive_wheel.h"

namespace evmesh::mqtt {

class MeshLink;
class Connection;

struct ConnectionLimits {
  std::uint32_t max_packet_bytes = 1 << 20;       // we accept, and advertise (5.0)
  std::uint16_t receive_maximum = 1024;           // inbound QoS 2 in flight per client
  std::uint16_t topic_alias_maximum = 64;         // inbound aliases per connection
  std::chrono::milliseconds connect_timeout{10'000};  // TCP accept -> CONNECT
  std::size_t max_connections = 100'000;
  std::uint16_t max_keep_alive = 60;  // seconds; 5.0 Server Keep Alive when a client asks more or 0
};

struct ServerContext {
  ConnectionLimits limits;
  std::shared_ptr<Broker> broker;
  std::shared_ptr<KeepaliveWheel> keepalive;  // every connection's keep-alive deadline
  MeshLink* mesh = nullptr;  // null: MQTT only (unit tests)
  // Authentication at CONNECT, publish checks (docs/security.md); null: none (unit tests).
  const control::AccessControl* access = nullptr;
  std::shared_ptr<spdlog::logger> log;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::uint64_t> next_connection_id{1};
  std::atomic<bool> stopping{false};

  std::mutex registry_mutex;
  std::vector<std::weak_ptr<Connection>> registry;  // pruned on accept
};

}  // namespace evmesh::mqtt
