// The gRPC listener of evmeshd: the evmesh.v1.Broker service, the standard health
// service (grpc.health.v1) and server reflection. See docs/grpc.md.
//
// start() binds, plaintext or TLS (grpc.tls; PEM files read here), logging "grpc
// listening on HOST:PORT" with the real port;
// begin_shutdown() ends every Subscribe stream and every publish waiting for queue
// space with UNAVAILABLE, marks health NOT_SERVING and shuts the server down on a
// thread of its own (new calls fail, calls in progress get until the deadline);
// wait() joins that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "evmesh/control/access_control.h"
#include "evmesh/control/config.h"
#include "evmesh/runtime/runtime.h"
#include "group_sink.h"

namespace evmesh::grpc_adapter {

class GrpcServer {
 public:
  GrpcServer(boost::asio::any_io_executor ex, control::GrpcListenerConfig config, Runtime& runtime,
             GroupRegistry& groups, const DeliveryPolicy& delivery_defaults,
             const SinkSpec& sink_defaults,
             std::shared_ptr<control::AccessControl> access = nullptr);
  ~GrpcServer();

  Result<void> start();
  std::uint16_t port() const;
  void begin_shutdown(std::chrono::milliseconds deadline);
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evmesh::grpc_adapter
