#include "broker_service.h"

#include <chrono>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "caller.h"
#include "codec.h"
#include "evmesh/control/subscription_spec.h"
#include "publish_admission.h"
#include "publish_stream.h"
#include "status.h"
#include "subscribe_stream.h"
#include "wire.h"

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

// A unary call whose handler answers at once: parse the request as Req, run
// handle(request, response) -> Status, send the response when OK.
template <class Req, class Res, class Handle>
grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, const grpc::ByteBuffer* in,
                                grpc::ByteBuffer* out, Handle handle) {
  Req request;
  if (auto status = parse_message(*in, request); !status.ok()) return finish(context, status);
  Res response;
  auto status = handle(std::as_const(request), response);
  if (status.ok()) serialize_message(response, *out);
  return finish(context, std::move(status));
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

grpc::ServerUnaryReactor* BrokerService::Publish(Context* context, const Bytes* in, Bytes* out) {
  if (expired(context)) return finish(context, deadline_exceeded());
  EVMESH_CALLER(who, context);
  pb::PublishRequest request;
  if (auto status = parse_message(*in, request); !status.ok()) return finish(context, status);
  auto ev = decode_event(request.event());
  if (!ev) return finish(context, to_status(ev.error()));
  std::vector<EventPtr> events;
  events.push_back(std::move(*ev));
  if (ctx_.access)
    if (auto allowed = ctx_.access->authorize_publish(*who, events); !allowed)
      return finish(context, to_status(allowed.error()));
  auto* reactor = context->DefaultReactor();
  publish_admitted(ctx_, context, std::move(events),
                   [reactor, out](grpc::Status status, PublishReceipt receipt) {
                     if (status.ok()) {
                       pb::PublishResponse response;
                       response.set_deliveries(static_cast<std::uint32_t>(receipt.deliveries));
                       serialize_message(response, *out);
                     }
                     reactor->Finish(std::move(status));
                   });
  return reactor;
}

grpc::ServerUnaryReactor* BrokerService::PublishBatch(Context* context, const Bytes* in,
                                                      Bytes* out) {
  if (expired(context)) return finish(context, deadline_exceeded());
  EVMESH_CALLER(who, context);
  pb::PublishBatchRequest request;
  if (auto status = parse_message(*in, request); !status.ok()) return finish(context, status);
  auto response = std::make_shared<pb::PublishBatchResponse>();
  std::vector<EventPtr> valid;
  valid.reserve(request.batch().events_size());
  for (const auto& event : request.batch().events()) {
    auto* result = response->add_results();
    auto ev = decode_event(event);
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
  auto* reactor = context->DefaultReactor();
  auto reply = [reactor, out, response](grpc::Status status, PublishReceipt receipt) {
    if (status.ok()) {
      response->set_deliveries(static_cast<std::uint32_t>(receipt.deliveries));
      serialize_message(*response, *out);
    }
    reactor->Finish(std::move(status));
  };
  if (valid.empty()) {
    reply(grpc::Status::OK, {});
  } else {
    publish_admitted(ctx_, context, std::move(valid), std::move(reply));
  }
  return reactor;
}

grpc::ServerReadReactor<grpc::ByteBuffer>* BrokerService::PublishStream(Context* context,
                                                                       Bytes* out) {
  // `class`: this method has the same name
  return new class PublishStream(ctx_, context, out, authenticate_call(ctx_, *context));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* BrokerService::Subscribe(
    Context* context) {
  return new SubscribeStream(ctx_, authenticate_call(ctx_, *context));
}

grpc::ServerUnaryReactor* BrokerService::CreateSubscription(Context* context, const Bytes* in,
                                                            Bytes* out) {
  EVMESH_CALLER(who, context);
  return unary<pb::SubscriptionRequest, pb::SubscriptionResponse>(
      context, in, out, [this, &who](const pb::SubscriptionRequest& request,
                                     pb::SubscriptionResponse& response) -> grpc::Status {
        auto body = json_object(request.json());
        if (!body) return to_status(body.error());
        body->erase("id");  // as POST /subscriptions: the server assigns the id
        auto sub = control::parse_subscription(*body, ctx_.delivery_defaults, ctx_.sink_defaults);
        if (!sub) return to_status(sub.error());
        sub->id.clear();
        sub->declared_in_config = false;
        if (auto owned = take_ownership(ctx_, *sub, *who); !owned)
          return to_status(owned.error());
        auto created = ctx_.runtime.create(std::move(*sub));
        if (!created) return to_status(created.error());
        response.set_json(dump(*created));
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* BrokerService::GetSubscription(Context* context, const Bytes* in,
                                                         Bytes* out) {
  EVMESH_CALLER(who, context);
  return unary<pb::SubscriptionRequest, pb::SubscriptionResponse>(
      context, in, out, [this](const pb::SubscriptionRequest& request,
                               pb::SubscriptionResponse& response) -> grpc::Status {
        auto sub = ctx_.runtime.get(request.id());
        if (!sub)
          return {grpc::StatusCode::NOT_FOUND,
                  fmt::format("no subscription with id '{}'", request.id())};
        response.set_json(dump(*sub));
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* BrokerService::ListSubscriptions(Context* context, const Bytes* in,
                                                           Bytes* out) {
  EVMESH_CALLER(who, context);
  return unary<pb::ListSubscriptionsRequest, pb::ListSubscriptionsResponse>(
      context, in, out, [this](const pb::ListSubscriptionsRequest&,
                               pb::ListSubscriptionsResponse& response) {
        for (const auto& sub : ctx_.runtime.list()) response.add_json(dump(sub));
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* BrokerService::UpdateSubscription(Context* context, const Bytes* in,
                                                            Bytes* out) {
  EVMESH_CALLER(who, context);
  return unary<pb::SubscriptionRequest, pb::SubscriptionResponse>(
      context, in, out, [this, &who](const pb::SubscriptionRequest& request,
                                     pb::SubscriptionResponse& response) -> grpc::Status {
        const auto& id = request.id();
        if (!control::valid_subscription_id(id))
          return {grpc::StatusCode::INVALID_ARGUMENT,
                  "id: must be 1 to 128 characters from A-Z a-z 0-9 - _ . ~"};
        auto body = json_object(request.json());
        if (!body) return to_status(body.error());
        if (auto it = body->find("id"); it != body->end()) {
          if (!it->is_string() || it->get<std::string>() != id)
            return {grpc::StatusCode::INVALID_ARGUMENT,
                    fmt::format("id: the object's id does not match '{}'", id)};
          body->erase(it);
        }
        auto sub = control::parse_subscription(*body, ctx_.delivery_defaults, ctx_.sink_defaults);
        if (!sub) return to_status(sub.error());
        sub->id = id;
        sub->declared_in_config = false;
        if (auto owned = take_ownership(ctx_, *sub, *who); !owned)
          return to_status(owned.error());
        auto existing = ctx_.runtime.get(id);
        if (existing && ctx_.access)
          if (auto mine = ctx_.access->authorize_owner(*who, *existing); !mine)
            return to_status(mine.error());
        auto done = existing ? ctx_.runtime.replace(id, std::move(*sub))
                             : ctx_.runtime.create(std::move(*sub));
        if (!done) return to_status(done.error());
        response.set_json(dump(*done));
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* BrokerService::DeleteSubscription(Context* context, const Bytes* in,
                                                            Bytes* out) {
  EVMESH_CALLER(who, context);
  return unary<pb::SubscriptionRequest, pb::SubscriptionResponse>(
      context, in, out, [this, &who](const pb::SubscriptionRequest& request,
                                     pb::SubscriptionResponse& response) -> grpc::Status {
        if (auto existing = ctx_.runtime.get(request.id()); existing && ctx_.access)
          if (auto mine = ctx_.access->authorize_owner(*who, *existing); !mine)
            return to_status(mine.error());
        auto removed = ctx_.runtime.remove(request.id());
        if (!removed) return to_status(removed.error());
        response.set_json(dump(*removed));
        return grpc::Status::OK;
      });
}

#undef EVMESH_CALLER

}  // namespace evmesh::grpc_adapter
