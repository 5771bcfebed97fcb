// The evmesh.v1.Broker service (proto/evmesh/v1/broker.proto) on gRPC's callback
// API. Unary handlers decode, call the thread-safe runtime (which never blocks on
// delivery) and finish at once; Subscribe is a SubscribeStream reactor.
#pragma once

#include "evmesh/v1/broker.grpc.pb.h"
#include "service_context.h"

namespace evmesh::grpc_adapter {

class BrokerService final : public ::evmesh::v1::Broker::CallbackService {
 public:
  explicit BrokerService(ServiceContext& ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const ::evmesh::v1::PublishRequest* request,
                                    ::evmesh::v1::PublishResponse* response) override;
  grpc::ServerUnaryReactor* PublishBatch(grpc::CallbackServerContext* context,
                                         const ::evmesh::v1::PublishBatchRequest* request,
                                         ::evmesh::v1::PublishBatchResponse* response) override;
  grpc::ServerBidiReactor<::evmesh::v1::SubscribeRequest, ::evmesh::v1::SubscribeResponse>*
  Subscribe(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* CreateSubscription(grpc::CallbackServerContext* context,
                                               const ::evmesh::v1::SubscriptionRequest* request,
                                               ::evmesh::v1::SubscriptionResponse* response) override;
  grpc::ServerUnaryReactor* GetSubscription(grpc::CallbackServerContext* context,
                                            const ::evmesh::v1::SubscriptionRequest* request,
                                            ::evmesh::v1::SubscriptionResponse* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(grpc::CallbackServerContext* context,
                                              const ::evmesh::v1::ListSubscriptionsRequest* request,
                                              ::evmesh::v1::ListSubscriptionsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateSubscription(grpc::CallbackServerContext* context,
                                               const ::evmesh::v1::SubscriptionRequest* request,
                                               ::evmesh::v1::SubscriptionResponse* response) override;
  grpc::ServerUnaryReactor* DeleteSubscription(grpc::CallbackServerContext* context,
                                               const ::evmesh::v1::SubscriptionRequest* request,
                                               ::evmesh::v1::SubscriptionResponse* response) override;

 private:
  ServiceContext& ctx_;
};

}  // namespace evmesh::grpc_adapter
