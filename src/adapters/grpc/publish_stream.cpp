#include "publish_stream.h"

#include <fmt/format.h>

#include "codec.h"
#include "publish_admission.h"
#include "status.h"
#include "wire.h"

namespace evmesh::grpc_adapter {

namespace pb = ::evmesh::v1;

PublishStream::PublishStream(ServiceContext& ctx, grpc::CallbackServerContext* call,
                             grpc::ByteBuffer* response, Result<control::Principal> caller)
    : ctx_(ctx), call_(call), response_out_(response) {
  if (!caller) {  // UNAUTHENTICATED: nothing read, nothing handled
    Finish(to_status(caller.error()));
    return;
  }
  principal_ = std::move(*caller);
  StartRead(&request_);
}

void PublishStream::OnReadDone(bool ok) {
  if (!ok) {  // the client half-closed (or the call ended: then nobody reads this)
    serialize_message(summary_, *response_out_);
    Finish(grpc::Status::OK);
    return;
  }
  message_start_ = next_index_;
  rejected_before_ = summary_.rejected();
  pb::PublishStreamRequest request;
  if (auto status = parse_message(request_, request); !status.ok()) return fail(std::move(status));
  request_.Clear();
  handle(request);
}

void PublishStream::handle(const pb::PublishStreamRequest& request) {
  std::vector<EventPtr> valid;
  auto take = [&](const ProtoEvent& in) {
    const auto index = next_index_++;
    auto ev = decode_event(in);
    if (ev) return valid.push_back(std::move(*ev));
    summary_.set_rejected(summary_.rejected() + 1);
    if (summary_.failures_size() >= kMaxFailures) return;
    const auto status = to_status(ev.error());
    auto* failure = summary_.add_failures();
    failure->set_index(index);
    failure->set_code(status.error_code());
    failure->set_message(status.error_message());
    failure->set_attribute(ev.error().pointer);
  };
  switch (request.kind_case()) {
    case pb::PublishStreamRequest::kEvent:
      take(request.event());
      break;
    case pb::PublishStreamRequest::kBatch:
      for (const auto& in : request.batch().events()) take(in);
      break;
    case pb::PublishStreamRequest::KIND_NOT_SET:
      return fail({grpc::StatusCode::INVALID_ARGUMENT,
                   "PublishStreamRequest: set `event` or `batch`; the message has neither"});
  }
  if (valid.empty()) return StartRead(&request_);
  // Like a malformed message: a denied type fails the stream, none of this message is
  // published (the first denied type refuses the whole message, as HTTP and Publish do).
  if (ctx_.access)
    if (auto allowed = ctx_.access->authorize_publish(principal_, valid); !allowed)
      return fail(to_status(allowed.error()));
  publish_admitted(ctx_, call_, std::move(valid),
                   [this](grpc::Status status, PublishReceipt receipt) {
                     if (!status.ok()) return fail(std::move(status));
                     summary_.set_published(summary_.published() + receipt.events);
                     summary_.set_deliveries(summary_.deliveries() + receipt.deliveries);
                     StartRead(&request_);
                   });
}

// The failing message counts as not handled at all: none of its events was published.
void PublishStream::fail(grpc::Status status) {
  call_->AddTrailingMetadata("evmesh-processed", std::to_string(message_start_));
  Finish({status.error_code(),
          fmt::format("{} (the stream's first {} events were handled: {} published, {} rejected)",
                      status.error_message(), message_start_, summary_.published(),
                      rejected_before_)});
}

void PublishStream::OnDone() { delete this; }

}  // namespace evmesh::grpc_adapter
