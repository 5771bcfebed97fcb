#include "broker_service.h"

#include <chrono>

#include <fmt/format.h>

#include "caller.h"
#include "codec.h"
#include "evmesh/control/subscription_spec.h"
#include "status.h"
#include "subscribe_stream.h"

namespace evmesh::grpc_adapter {
namespace pb = ::evmesh::v1;
namespace {

grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* context, grpc::Status status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// The client's deadline passed while the request waited: do nothing and say so.
bool expired(const grpc::CallbackServerContext* context) {
  return context->deadline() <= std::chrono::system_clock::now();
}

grpc::Status deadline_exceeded() {
  return {grpc::StatusCode::DEADLINE_EXCEEDED, "the deadline passed before the request was handled"};
}

Result<nlohmann::json> json_object(const std::string& text) {
  auto body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return fail(Errc::invalid_format, "json: not valid JSON", "json");
  if (!body.is_object()) return fail(Errc::invalid_format, "json: must be a JSON object", "json");
  return body;
}

std::string dump(const Subscription& sub) {
  return control::to_json(sub).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The call's principal, or the status to finish with.
#define EVMESH_CALLER(who, context)                                   \
  auto who = authenticate_call(ctx_, *context);                       \
  if (!who) return finish(context, to_status(who.error()))

// A subscription created over this API belongs to its caller (docs/security.md).
Result<void> take_ownership(const ServiceContext& ctx, Subscription& sub,
                            const control::Principal& who) {
  sub.owner = who.name;
  if (!ctx.access) return {};
  return ctx.access->authorize_subscription(who, sub);
}

}  // namespace

grpc::ServerUnaryReactor* BrokerService::Publish(grpc::CallbackServerContext* context,
                                                 const pb::PublishRequest* request,
                                                 pb::PublishResponse* response) {
  if (expired(context)) return finish(context, deadline_exceeded());
  EVMESH_CALLER(who, context);
  auto ev = decode_event(request->event());
  if (!ev) return finish(context, to_status(ev.error()));
  const EventPtr events[] = {std::move(*ev)};
  if (ctx_.access)
    if (auto allowed = ctx_.access->authorize_publish(*who, events); !allowed)
      return finish(context, to_status(allowed.error()));
  auto receipt = ctx_.runtime.publish(events);
  if (!receipt) return finish(context, to_status(receipt.error()));
  response->set_deliveries(static_cast<std::uint32_t>(receipt->deliveries));
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* BrokerService::PublishBatch(grpc::CallbackServerContext* context,
                                                      const pb::PublishBatchRequest* request,
                                                      pb::PublishBatchResponse* response) {
  if (expired(context)) return finish(context, deadline_exceeded());
  EVMESH_CALLER(who, context);
  std::vector<EventPtr> valid;
  valid.reserve(request->batch().events_size());
  for (const auto& in : request->batch().events()) {
    auto* result = response->add_results();
    auto ev = decode_event(in);
    if (!ev) {
      const auto status = to_status(ev.error());
      result->set_code(status.error_code());
      result->set_message(status.error_message());
      result->set_attribute(ev.error().pointer);
      continue;
    }
    if (ctx_.access) {  // like an invalid event: this one is refused, the others go on
      if (auto allowed = ctx_.access->authorize(*who, control::AclAction::publish, (*ev)->type());
          !allowed) {
        result->set_code(grpc::StatusCode::PERMISSION_DENIED);
        result->set_message(allowed.error().message);
        result->set_attribute("type");
        continue;
      }
    }
    valid.push_back(std::move(*ev));
  }
  if (!valid.empty()) {
    auto receipt = ctx_.runtime.publish(valid);
    if (!receipt) return finish(context, to_status(receipt.error()));
    response->set_deliveries(static_cast<std::uint32_t>(receipt->deliveries));
  }
  return finish(context, grpc::Status::OK);
}

grpc::ServerBidiReactor<pb::SubscribeRequest, pb::SubscribeResponse>* BrokerService::Subscribe(
    grpc::CallbackServerContext* context) {
  return new SubscribeStream(ctx_, authenticate_call(ctx_, *context));
}

grpc::ServerUnaryReactor* BrokerService::CreateSubscription(grpc::CallbackServerContext* context,
                                                            const pb::SubscriptionRequest* request,
                                                            pb::SubscriptionResponse* response) {
  EVMESH_CALLER(who, context);
  auto body = json_object(request->json());
  if (!body) return finish(context, to_status(body.error()));
  body->erase("id");  // as POST /subscriptions: the server assigns the id
  auto sub = control::parse_subscription(*body, ctx_.delivery_defaults, ctx_.sink_defaults);
  if (!sub) return finish(context, to_status(sub.error()));
  sub->id.clear();
  sub->declared_in_config = false;
  if (auto owned = take_ownership(ctx_, *sub, *who); !owned)
    return finish(context, to_status(owned.error()));
  auto created = ctx_.runtime.create(std::move(*sub));
  if (!created) return finish(context, to_status(created.error()));
  response->set_json(dump(*created));
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* BrokerService::GetSubscription(grpc::CallbackServerContext* context,
                                                         const pb::SubscriptionRequest* request,
                                                         pb::SubscriptionResponse* response) {
  EVMESH_CALLER(who, context);
  auto sub = ctx_.runtime.get(request->id());
  if (!sub)
    return finish(context, {grpc::StatusCode::NOT_FOUND,
                            fmt::format("no subscription with id '{}'", request->id())});
  response->set_json(dump(*sub));
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* BrokerService::ListSubscriptions(grpc::CallbackServerContext* context,
                                                           const pb::ListSubscriptionsRequest*,
                                                           pb::ListSubscriptionsResponse* response) {
  EVMESH_CALLER(who, context);
  for (const auto& sub : ctx_.runtime.list()) response->add_json(dump(sub));
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* BrokerService::UpdateSubscription(grpc::CallbackServerContext* context,
                                                            const pb::SubscriptionRequest* request,
                                                            pb::SubscriptionResponse* response) {
  EVMESH_CALLER(who, context);
  const auto& id = request->id();
  if (!control::valid_subscription_id(id))
    return finish(context, {grpc::StatusCode::INVALID_ARGUMENT,
                            "id: must be 1 to 128 characters from A-Z a-z 0-9 - _ . ~"});
  auto body = json_object(request->json());
  if (!body) return finish(context, to_status(body.error()));
  if (auto it = body->find("id"); it != body->end()) {
    if (!it->is_string() || it->get<std::string>() != id)
      return finish(context, {grpc::StatusCode::INVALID_ARGUMENT,
                              fmt::format("id: the object's id does not match '{}'", id)});
    body->erase(it);
  }
  auto sub = control::parse_subscription(*body, ctx_.delivery_defaults, ctx_.sink_defaults);
  if (!sub) return finish(context, to_status(sub.error()));
  sub->id = id;
  sub->declared_in_config = false;
  if (auto owned = take_ownership(ctx_, *sub, *who); !owned)
    return finish(context, to_status(owned.error()));
  auto existing = ctx_.runtime.get(id);
  if (existing && ctx_.access)
    if (auto mine = ctx_.access->authorize_owner(*who, *existing); !mine)
      return finish(context, to_status(mine.error()));
  auto done = existing ? ctx_.runtime.replace(id, std::move(*sub))
                       : ctx_.runtime.create(std::move(*sub));
  if (!done) return finish(context, to_status(done.error()));
  response->set_json(dump(*done));
  return finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* BrokerService::DeleteSubscription(grpc::CallbackServerContext* context,
                                                            const pb::SubscriptionRequest* request,
                                                            pb::SubscriptionResponse* response) {
  EVMESH_CALLER(who, context);
  if (auto existing = ctx_.runtime.get(request->id()); existing && ctx_.access)
    if (auto mine = ctx_.access->authorize_owner(*who, *existing); !mine)
      return finish(context, to_status(mine.error()));
  auto removed = ctx_.runtime.remove(request->id());
  if (!removed) return finish(context, to_status(removed.error()));
  response->set_json(dump(*removed));
  return finish(context, grpc::Status::OK);
}

#undef EVMESH_CALLER

}  // namespace evmesh::grpc_adapter
