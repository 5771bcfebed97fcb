#include "subscribe_stream.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "codec.h"
#include "status.h"
#include "wire.h"

namespace evmesh::grpc_adapter {
namespace {

// Deliveries a dynamic group's dispatcher keeps in flight: the members' credit is
// the real bound; this only has to exceed the sum of their credits.
constexpr std::uint32_t kGroupConcurrency = 4096;
constexpr std::uint32_t kMaxCredit = 4096;

grpc::Status invalid(std::string message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, std::move(message)};
}

}  // namespace

// What the group holds: forwards to the stream until the stream is done.
class SubscribeStream::Member final : public GroupMember {
 public:
  explicit Member(SubscribeStream* stream) : stream_(stream) {}
  void deliver(std::uint64_t delivery_id, EventPtr ev) override {
    std::lock_guard lock(mutex_);
    if (stream_) stream_->deliver(delivery_id, std::move(ev));
  }
  void detach() {
    std::lock_guard lock(mutex_);
    stream_ = nullptr;
  }

 private:
  std::mutex mutex_;
  SubscribeStream* stream_;
};

SubscribeStream::SubscribeStream(ServiceContext& ctx, Result<control::Principal> caller)
    : ctx_(ctx), stream_id_(ctx.next_stream++), member_(std::make_shared<Member>(this)) {
  if (!caller) {
    finish(to_status(caller.error()));
    return;
  }
  principal_ = std::move(*caller);
  bool stopping;
  {
    std::lock_guard lock(ctx_.streams_mutex);
    stopping = ctx_.stopping;
    if (!stopping) ctx_.streams.insert(this);
  }
  if (stopping) {
    finish({grpc::StatusCode::UNAVAILABLE, "the broker is shutting down"});
    return;
  }
  StartRead(&request_);
}

grpc::Status SubscribeStream::start(const pb::SubscribeStart& start) {
  std::uint32_t credit = start.max_in_flight() ? start.max_in_flight()
                                               : static_cast<std::uint32_t>(ctx_.config.max_in_flight);
  credit = std::min(credit, kMaxCredit);
  if (!start.subscription_id().empty() && !start.filters().empty())
    return invalid("start: set either filters or subscription_id, not both");

  std::lock_guard lifecycle(ctx_.lifecycle);
  if (!start.subscription_id().empty()) {
    auto sub = ctx_.runtime.get(start.subscription_id());
    if (!sub)
      return {grpc::StatusCode::NOT_FOUND,
              fmt::format("no subscription with id '{}'", start.subscription_id())};
    auto name = GroupRegistry::group_of(sub->sink.uri);
    if (!name)
      return {grpc::StatusCode::FAILED_PRECONDITION,
              fmt::format("subscription '{}' delivers to {}, not to a grpc-group: sink",
                          sub->id, sub->sink.uri)};
    if (!start.group().empty() && start.group() != *name)
      return invalid(fmt::format("group: subscription '{}' feeds group '{}', not '{}'", sub->id,
                                 *name, start.group()));
    if (ctx_.access && ctx_.access->acl_enabled() && sub->owner != principal_.name)
      return {grpc::StatusCode::PERMISSION_DENIED,
              fmt::format("subscription '{}' belongs to {}; principal '{}' may not join it",
                          sub->id, sub->owner.empty() ? "the operator" : "'" + sub->owner + "'",
                          principal_.name)};
    group_ = ctx_.groups.find_or_create(*name);
    subscription_id_ = sub->id;
  } else {
    const std::string name =
        start.group().empty() ? fmt::format("stream-{}", stream_id_) : start.group();
    if (!GroupRegistry::valid_group_name(name))
      return invalid("group: must be 1 to 128 characters from A-Z a-z 0-9 - _ . ~");
    auto json = start.filters().empty()
                    ? nlohmann::json::array()
                    : nlohmann::json::parse(start.filters(), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return invalid("filters: not valid JSON");
    auto filters = filter::parse_filters(json, "filters");
    if (!filters) return to_status(filters.error());
    const auto key = json.dump();
    const auto sub_id = "grpc-" + name;

    auto group = ctx_.groups.find(name);
    if (group && !group->dynamic)
      return {grpc::StatusCode::FAILED_PRECONDITION,
              fmt::format("group '{}' is fed by a named subscription; join it with subscription_id",
                          name)};
    if (group && ctx_.access && ctx_.access->acl_enabled()) {
      auto existing = ctx_.runtime.get(sub_id);
      if (existing && existing->owner != principal_.name)
        return {grpc::StatusCode::PERMISSION_DENIED,
                fmt::format("group '{}' belongs to '{}'; principal '{}' may not join it", name,
                            existing->owner, principal_.name)};
    }
    if (group && group->filters_key != key)
      return invalid(fmt::format("filters: group '{}' already subscribes with filters {}", name,
                                 group->filters_key));
    if (!group) {
      group = ctx_.groups.find_or_create(name);
      Subscription sub;
      sub.id = sub_id;
      sub.filters = std::move(*filters);
      sub.config = {{"grpcgroup", name}};
      sub.sink = ctx_.sink_defaults;
      sub.sink.uri = std::string(GroupRegistry::kScheme) + name;
      sub.sink.protocol = "GRPC";
      sub.delivery = ctx_.delivery_defaults;
      sub.delivery.concurrency = kGroupConcurrency;
      sub.delivery.dead_letter.reset();
      sub.owner = principal_.name;
      if (ctx_.access)
        if (auto allowed = ctx_.access->authorize_subscription(principal_, sub); !allowed) {
          ctx_.groups.erase(name);
          return to_status(allowed.error());
        }
      if (auto created = ctx_.runtime.create(std::move(sub)); !created) {
        ctx_.groups.erase(name);
        return to_status(created.error());
      }
      group->dynamic = true;
      group->filters_key = key;
      ctx_.log->debug("stream {}: created subscription {} for group {}", stream_id_, sub_id, name);
    }
    group_ = std::move(group);
    subscription_id_ = sub_id;
  }
  member_key_ = group_->join(member_, credit);
  ctx_.log->debug("stream {}: joined group {} (credit {})", stream_id_, group_->name(), credit);
  return grpc::Status::OK;
}

void SubscribeStream::OnReadDone(bool ok) {
  if (!ok) {  // the client half-closed or went away
    finish(grpc::Status::OK);
    return;
  }
  pb::SubscribeRequest request;
  if (auto status = parse_message(request_, request); !status.ok())
    return finish(std::move(status));
  request_.Clear();
  handle(request);
}

void SubscribeStream::handle(const pb::SubscribeRequest& request) {
  if (!group_) {
    if (request.kind_case() != pb::SubscribeRequest::kStart)
      return finish(invalid("the first message must be `start`"));
    if (auto status = start(request.start()); !status.ok()) return finish(status);
  } else if (request.kind_case() == pb::SubscribeRequest::kAck) {
    const auto& ids = request.ack().delivery_ids();
    group_->ack(member_key_, std::span<const std::uint64_t>(ids.data(), ids.size()));
  } else {
    return finish(invalid("after `start` only `ack` messages are accepted"));
  }
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;
  }
  StartRead(&request_);
}

void SubscribeStream::deliver(std::uint64_t delivery_id, EventPtr ev) {
  pb::SubscribeResponse msg;
  msg.set_delivery_id(delivery_id);
  msg.set_subscription_id(subscription_id_);
  encode_event(*ev, *msg.mutable_event());
  grpc::ByteBuffer bytes;
  serialize_message(msg, bytes);
  const grpc::ByteBuffer* next = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;  // stays un-acked: the group takes it back on leave
    outbox_.push_back(std::move(bytes));
    if (!writing_) {
      writing_ = true;
      next = &outbox_.front();
    }
  }
  if (next) StartWrite(next);
}

void SubscribeStream::OnWriteDone(bool ok) {
  const grpc::ByteBuffer* next = nullptr;
  std::optional<grpc::Status> status;
  {
    std::lock_guard lock(mutex_);
    outbox_.pop_front();
    if (ok && !finishing_ && !outbox_.empty()) {
      next = &outbox_.front();
    } else {
      writing_ = false;
      if (finish_status_ && !finished_) {
        finished_ = true;
        status = std::move(finish_status_);
      }
    }
  }
  if (next) StartWrite(next);
  if (status) Finish(std::move(*status));
}

void SubscribeStream::finish(grpc::Status status) {
  {
    std::lock_guard lock(mutex_);
    if (finishing_) return;
    finishing_ = true;
    if (writing_) {
      finish_status_ = std::move(status);
      return;
    }
    finished_ = true;
  }
  Finish(std::move(status));
}

void SubscribeStream::OnCancel() { finish({grpc::StatusCode::CANCELLED, "cancelled"}); }

void SubscribeStream::leave_group() {
  if (!group_) return;
  const auto left = group_->leave(member_key_);
  ctx_.log->debug("stream {}: left group {} ({} members left)", stream_id_, group_->name(), left);
  if (left != 0 || !group_->dynamic) return;
  // The last member of a dynamic group: remove its subscription, off the gRPC thread.
  boost::asio::post(ctx_.ex, [&ctx = ctx_, group = group_, sub_id = subscription_id_] {
    std::lock_guard lifecycle(ctx.lifecycle);
    if (group->stats().members != 0 || ctx.groups.find(group->name()) != group) return;
    ctx.runtime.remove(sub_id);
    ctx.groups.erase(group->name());
    ctx.log->debug("group {} has no members: subscription {} removed", group->name(), sub_id);
  });
}

void SubscribeStream::OnDone() {
  {
    std::lock_guard lock(ctx_.streams_mutex);
    ctx_.streams.erase(this);
  }
  leave_group();
  member_->detach();
  delete this;
}

}  // namespace evmesh::grpc_adapter
