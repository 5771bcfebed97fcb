#include "grpc_server.h"

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "broker_service.h"
#include "publish_admission.h"
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

// protobuf logs every string field with invalid UTF-8 it is asked to parse at ERROR
// level: a client could flood the log with malformed requests, which already get
// INVALID_ARGUMENT naming the field. Its messages go to our logger at debug.
void protobuf_log(google::protobuf::LogLevel level, const char* file, int line,
                  const std::string& message) {
  if (level >= google::protobuf::LOGLEVEL_FATAL) {
    spdlog::critical("protobuf {}:{}: {}", file, line, message);
  } else if (auto log = spdlog::get("grpc")) {
    log->debug("protobuf {}:{}: {}", file, line, message);
  }
}

int clamp_ms(std::chrono::milliseconds d) {
  return static_cast<int>(std::min<std::int64_t>(d.count(), INT32_MAX));
}

Result<std::string> read_pem(const std::string& path, std::string_view key) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad())
    return fail(Errc::internal, fmt::format("grpc.tls.{}: cannot read '{}'", key, path));
  if (text.str().find("-----BEGIN ") == std::string::npos)
    return fail(Errc::internal, fmt::format("grpc.tls.{}: '{}' is not a PEM file", key, path));
  return text.str();
}

// Plaintext, or TLS from grpc.tls (client certificates required when client_ca_file).
Result<std::shared_ptr<grpc::ServerCredentials>> credentials(const control::TlsConfig& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  auto cert = read_pem(tls.cert_file, "cert_file");
  if (!cert) return std::unexpected(cert.error());
  auto key = read_pem(tls.key_file, "key_file");
  if (!key) return std::unexpected(key.error());
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({std::move(*key), std::move(*cert)});
  if (!tls.client_ca_file.empty()) {
    auto ca = read_pem(tls.client_ca_file, "client_ca_file");
    if (!ca) return std::unexpected(ca.error());
    options.pem_root_certs = std::move(*ca);
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
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
  google::protobuf::SetLogHandler(&protobuf_log);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto creds = credentials(config.tls);
  if (!creds) return std::unexpected(creds.error());
  grpc::ServerBuilder builder;
  const bool v6 = config.host.find(':') != std::string::npos;
  const auto address = (v6 ? "[" + config.host + "]" : config.host) + ":" + std::to_string(config.port);
  builder.AddListeningPort(address, *creds, &impl_->port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.max_message_bytes));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, clamp_ms(config.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, clamp_ms(config.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0) {
    impl_->server.reset();
    return fail(Errc::internal, "cannot listen on " + address +
                                    (config.tls.enabled()
                                         ? " (address in use or invalid, or the TLS key does not "
                                           "match the certificate?)"
                                         : " (address in use or invalid?)"));
  }
  // "" (the whole server) and the service by name, as health clients ask either.
  auto* health = impl_->server->GetHealthCheckService();
  health->SetServingStatus(::evmesh::v1::Broker::service_full_name(), true);
  health->SetServingStatus(true);
  impl_->ctx.log->info("grpc listening on {}:{}{}", config.host, impl_->port,
                       config.tls.enabled() ? (config.tls.client_ca_file.empty()
                                                   ? " (TLS)"
                                                   : " (TLS, client certificates required)")
                                            : "");
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
  abort_waiting_publishes(impl_->ctx);
  impl_->shutdown_thread = std::thread([server = impl_->server.get(), deadline] {
    server->Shutdown(std::chrono::system_clock::now() + deadline);
  });
}

void GrpcServer::wait() {
  if (impl_->shutdown_thread.joinable()) impl_->shutdown_thread.join();
}

}  // namespace evmesh::grpc_adapter
