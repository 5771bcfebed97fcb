// What the gRPC handlers share: the runtime, the groups, the listener config and the
// subscription defaults. Lives as long as the GrpcServer; handlers run on gRPC's
// threads and only call thread-safe runtime and group methods.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>

#include <boost/asio/any_io_executor.hpp>
#include <spdlog/spdlog.h>

#include "evmesh/control/access_control.h"
#include "evmesh/control/config.h"
#include "evmesh/runtime/runtime.h"
#include "group_sink.h"

namespace evmesh::grpc_adapter {

class SubscribeStream;
class PublishWaiter;

struct ServiceContext {
  boost::asio::any_io_executor ex;  // the runtime's pool, for work posted off gRPC threads
  control::GrpcListenerConfig config;
  Runtime& runtime;
  GroupRegistry& groups;
  DeliveryPolicy delivery_defaults;
  SinkSpec sink_defaults;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<control::AccessControl> access;  // null: no authentication (caller.h)

  // Serialises creating and removing the runtime subscriptions of dynamic groups
  // (join, last leave). Taken before any group lock.
  std::mutex lifecycle;
  std::atomic<std::uint64_t> next_stream{1};

  // Open Subscribe streams and publishes waiting for queue space, to end them on
  // shutdown.
  std::recursive_mutex streams_mutex;  // recursive: finish() may run OnDone inline
  std::set<SubscribeStream*> streams;
  std::set<std::shared_ptr<PublishWaiter>> waiters;
  bool stopping = false;  // under streams_mutex
};

}  // namespace evmesh::grpc_adapter
