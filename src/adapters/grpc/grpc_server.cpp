#include "grpc_server.h"

#include <mutex>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "broker_service.h"
#include "subscribe_stream.h"

namespace evmesh::grpc_adapter {
namespace {

std::shared_ptr<spdlog::logger> grpc_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("grpc")) return existing;
  auto logger = spdlog::default_logger()->clone("grpc");
  spdlog::register_logger(logger);
  return logger;
}

int clamp_ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::min<std::int64_t>(d.count(), INT32_MAX));
}

}  // namespace

struct GrpcServer::Impl {
  Impl(boost::asio::any_io_executor ex, control::GrpcListenerConfig config, Runtime& runtime,
       GroupRegistry& groups, const DeliveryPolicy& delivery, const SinkSpec& sink)
      : ctx{std::move(ex), std::move(config), runtime, groups, delivery, sink, grpc_logger()},
        service(ctx) {}
  ServiceContext ctx;
  BrokerService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::thread shutdown_thread;
};

GrpcServer::GrpcServer(boost::asio::any_io_executor ex, control::GrpcListenerConfig config,
                       Runtime& runtime, GroupRegistry& groups,
                       const DeliveryPolicy& delivery_defaults, const SinkSpec& sink_defaults,
                       std::shared_ptr<control::AccessControl> access)
    : impl_(std::make_unique<Impl>(std::move(ex), std::move(config), runtime, groups,
                                   delivery_defaults, sink_defaults)) {
  impl_->ctx.access = std::move(access);
}

GrpcServer::~GrpcServer() {
  if (impl_->server && !impl_->shutdown_thread.joinable()) begin_shutdown(std::chrono::milliseconds(0));
  wait();
}

Result<void> GrpcServer::start() {
  const auto& config = impl_->ctx.config;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const bool v6 = config.host.find(':') != std::string::npos;
  const auto address = (v6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl_->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, clamp_ms(config.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, clamp_ms(config.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    impl_->server.reset();
    return fail(Errc::internal, "cannot listen on " + address + " (address in use or invalid?)");
  }
  impl_->server->GetHealthCheckService()->SetServingStatus(true);
  impl_->ctx.log->info("grpc listening on {}:{}", config.host, impl_->port);
  return {};
}

std::uint16_t GrpcServer::port() const { return static_cast<std::uint16_t>(impl_->port); }

void GrpcServer::begin_shutdown(std::chrono::milliseconds deadline) {
  if (!impl_->server || impl_->shutdown_thread.joinable()) return;
  impl_->server->GetHealthCheckService()->SetServingStatus(false);
  {
    std::lock_guard lock(impl_->ctx.streams_mutex);
    impl_->ctx.stopping = true;
    const std::vector<SubscribeStream*> streams(impl_->ctx.streams.begin(), impl_->ctx.streams.end());
    for (auto* s : streams) s->finish({grpc::StatusCode::UNAVAILABLE, "the broker is shutting down"});
  }
  impl_->shutdown_thread = std::thread([server = impl_->server.get(), deadline] {
    server->Shutdown(std::chrono::system_clock::now() + deadline);
  });
}

void GrpcServer::wait() {
  if (impl_->shutdown_thread.joinable()) impl_->shutdown_thread.join();
}

}  // namespace evmesh::grpc_adapter
