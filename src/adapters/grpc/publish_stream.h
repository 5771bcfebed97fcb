// PublishStream: the client writes PublishStreamRequest messages (one event or a
// batch each) and half-closes; the server answers once with a PublishStreamResponse.
//
// One message at a time, in order: read, decode, publish (publish_admission.h), then
// read the next. While a queue is full no read is pending, so HTTP/2 flow control
// stops the client's writes: that is the backpressure. An invalid event is counted
// and listed (the first kMaxFailures) and the stream goes on; the valid events of a
// message are published together. The stream fails, ending at once, on a malformed
// message (INVALID_ARGUMENT), a queue full for longer than grpc.publish_wait
// (RESOURCE_EXHAUSTED), a message with an event type the caller may not publish
// (PERMISSION_DENIED, docs/security.md), the deadline (DEADLINE_EXCEEDED) or shutdown
// (UNAVAILABLE); its trailing metadata `evmesh-processed` then says how many events
// (published or rejected) were handled before: none after them was published. A caller
// that does not authenticate gets UNAUTHENTICATED before anything is read.
//
// Threading: reactions run on gRPC threads, the publish completion on gRPC's or the
// runtime's; they never overlap (one read or one publish outstanding at a time).
#pragma once

#include <grpcpp/grpcpp.h>

#include "evmesh/control/auth.h"
#include "evmesh/v1/broker.grpc.pb.h"
#include "service_context.h"

namespace evmesh::grpc_adapter {

class PublishStream final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  static constexpr int kMaxFailures = 1000;

  // `caller`: the authenticated principal (caller.h), or the error that ends the
  // stream at once.
  PublishStream(ServiceContext& ctx, grpc::CallbackServerContext* call, grpc::ByteBuffer* response,
                Result<control::Principal> caller);

  void OnReadDone(bool ok) override;
  void OnDone() override;

 private:
  void handle(const ::evmesh::v1::PublishStreamRequest& request);
  void on_published(const grpc::Status& status, const PublishReceipt& receipt);
  void fail(grpc::Status status);

  ServiceContext& ctx_;
  grpc::CallbackServerContext* call_;
  grpc::ByteBuffer* response_out_;
  control::Principal principal_;
  grpc::ByteBuffer request_;
  ::evmesh::v1::PublishStreamResponse summary_;
  std::uint64_t next_index_ = 0;       // of the next event in the stream
  std::uint64_t message_start_ = 0;    // index of the current message's first event
  std::uint64_t rejected_before_ = 0;  // events rejected before the current message
};

}  // namespace evmesh::grpc_adapter
