// The evmesh.v1.Broker service (proto/evmesh/v1/broker.proto) on gRPC's callback
// API, every method registered raw (grpc::ByteBuffer in and out) so that a request
// that is not valid protobuf gets INVALID_ARGUMENT naming what is wrong (wire.h)
// rather than gRPC's bare UNIMPLEMENTED. The proto descriptors are still linked in,
// so reflection describes the typed service.
//
// Unary handlers parse, decode and call the thread-safe runtime, which never blocks
// on delivery; publishes that meet a full queue wait asynchronously
// (publish_admission.h). PublishStream and Subscribe are reactors of their own.
#pragma once

#include "evmesh/v1/broker.grpc.pb.h"
#include "service_context.h"

namespace evmesh::grpc_adapter {

namespace raw {
// Every method of the generated service, each marked raw.
using B = ::evmesh::v1::Broker;
using Broker = B::WithRawCallbackMethod_Publish<B::WithRawCallbackMethod_PublishBatch<
    B::WithRawCallbackMethod_PublishStream<B::WithRawCallbackMethod_Subscribe<
        B::WithRawCallbackMethod_CreateSubscription<B::WithRawCallbackMethod_GetSubscription<
            B::WithRawCallbackMethod_ListSubscriptions<B::WithRawCallbackMethod_UpdateSubscription<
                B::WithRawCallbackMethod_DeleteSubscription<B::Service>>>>>>>>>;
}  // namespace raw

class BrokerService final : public raw::Broker {
 public:
  using Bytes = grpc::ByteBuffer;
  using Context = grpc::CallbackServerContext;

  explicit BrokerService(ServiceContext& ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* Publish(Context* context, const Bytes* request,
                                    Bytes* response) override;
  grpc::ServerUnaryReactor* PublishBatch(Context* context, const Bytes* request,
                                         Bytes* response) override;
  grpc::ServerReadReactor<Bytes>* PublishStream(Context* context, Bytes* response) override;
  grpc::ServerBidiReactor<Bytes, Bytes>* Subscribe(Context* context) override;

  grpc::ServerUnaryReactor* CreateSubscription(Context* context, const Bytes* request,
                                               Bytes* response) override;
  grpc::ServerUnaryReactor* GetSubscription(Context* context, const Bytes* request,
                                            Bytes* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(Context* context, const Bytes* request,
                                              Bytes* response) override;
  grpc::ServerUnaryReactor* UpdateSubscription(Context* context, const Bytes* request,
                                               Bytes* response) override;
  grpc::ServerUnaryReactor* DeleteSubscription(Context* context, const Bytes* request,
                                               Bytes* response) override;

 private:
  ServiceContext& ctx_;
};

}  // namespace evmesh::grpc_adapter
