// Subscribe: one bidi stream, one member of a consumer group (see group_sink.h).
//
// The client's first message must be `start`; then it sends `ack`s. The server
// sends SubscribeResponse messages, one write in flight at a time, at most
// max_in_flight un-acked (the group enforces the credit). The stream ends when the
// client half-closes or cancels, on a malformed or bad first message (INVALID_ARGUMENT,
// NOT_FOUND, FAILED_PRECONDITION), or at shutdown (UNAVAILABLE). Un-acked events
// then return to the group.
//
// Threading: reactions run on gRPC threads; deliver() runs on whichever thread the
// group calls it from (a dispatcher or another stream's ack). mutex_ guards the
// outbox and the finish state; it is never held while calling into gRPC or the group.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "evmesh/v1/broker.grpc.pb.h"
#include "service_context.h"

namespace evmesh::grpc_adapter {

namespace pb = ::evmesh::v1;

// Raw messages (see broker_service.h): requests are parsed here, responses serialised
// by deliver() on the delivering thread.
class SubscribeStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `caller`: the authenticated principal, or the error that ends the stream at once
  // (UNAUTHENTICATED). A stream's subscription belongs to its principal; joining an
  // existing subscription's group takes being its owner while an ACL is enabled.
  SubscribeStream(ServiceContext& ctx, Result<control::Principal> caller);

  // Ends the stream with `status` once the write in flight (if any) completes.
  void finish(grpc::Status status);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Member;
  grpc::Status start(const pb::SubscribeStart& start);
  void leave_group();
  void deliver(std::uint64_t delivery_id, EventPtr ev);

  ServiceContext& ctx_;
  const std::uint64_t stream_id_;
  void handle(const pb::SubscribeRequest& request);

  grpc::ByteBuffer request_;
  std::shared_ptr<Member> member_;       // what the group holds
  std::shared_ptr<Group> group_;         // set by start()
  std::uint64_t member_key_ = 0;
  std::string subscription_id_;
  control::Principal principal_;

  std::mutex mutex_;
  std::deque<grpc::ByteBuffer> outbox_;       // front() is being written when writing_
  bool writing_ = false;
  bool finishing_ = false;                    // finish() called
  std::optional<grpc::Status> finish_status_; // waiting for the write in flight
  bool finished_ = false;                     // Finish() called on gRPC
};

}  // namespace evmesh::grpc_adapter
