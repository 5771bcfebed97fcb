#include "mesh_link.h"

namespace evmesh::mqtt {

namespace {

class MqttEventSink final : public Sink {
 public:
  explicit MqttEventSink(MeshLink& link) : link_(link) {}
  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    link_.deliver(ev, [done = std::move(done)] { done(DeliveryOutcome{}); });
  }
  void close() override {}

 private:
  MeshLink& link_;
};

class MqttSinkFactory final : public SinkFactory {
 public:
  explicit MqttSinkFactory(MeshLink& link) : sink_(std::make_shared<MqttEventSink>(link)) {}
  Result<std::shared_ptr<Sink>> make(const SinkSpec&) override { return sink_; }

 private:
  std::shared_ptr<Sink> sink_;
};

// The listener subscription's ack, held while full MQTT subscriber queues make room
// (session.h): the mesh's own backpressure then reaches HTTP and gRPC publishers.
// `left` starts high so that room() calls racing the publish cannot reach 0 early.
class AckWhenRoom final : public RoomWaiter {
 public:
  static constexpr std::size_t kUnknown = std::size_t{1} << 40;
  explicit AckWhenRoom(std::function<void()> done) : done_(std::move(done)) {}
  void room() override { release(1); }
  void release(std::size_t n) {
    if (left_.fetch_sub(n) == n) done_();
  }

 private:
  std::atomic<std::size_t> left_{kUnknown};
  std::function<void()> done_;
};

std::string sanitize_level(std::string_view v) {
  std::string out(v);
  for (auto& c : out)
    if (c == '+' || c == '#' || c == '\0') c = '_';
  return out;
}

}  // namespace

std::uint8_t reason_for(Errc code) {
  switch (code) {
    case Errc::invalid_event:
    case Errc::invalid_format:
    case Errc::unsupported_media: return reason::payload_format_invalid;
    case Errc::overloaded:
    case Errc::limit_reached: return reason::quota_exceeded;
    case Errc::shutting_down: return reason::unspecified;
    default: return reason::implementation_specific;
  }
}

// A refused PUBLISH's reason string lists what is wrong (schema violations), as the
// HTTP and gRPC answers do; capped to keep the PUBACK small.
std::string refusal_text(const Error& e) {
  auto why = e.message;
  for (const auto& d : e.details) {
    if (why.size() + d.size() > 1024) break;
    why += (&d == &e.details.front() ? ": " : "; ") + d;
  }
  return why;
}

std::string topic_for(const Event& ev, std::string_view tmpl) {
  if (auto explicit_topic = ev.attribute(codec::kMqttTopicExtension);
      explicit_topic && codec::valid_topic_name(*explicit_topic))
    return std::string(*explicit_topic);
  std::string out;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '{') {
      auto close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        auto name = tmpl.substr(i + 1, close - i - 1);
        if (auto v = ev.attribute(name)) out += sanitize_level(*v);
        i = close;
        continue;
      }
    }
    out += tmpl[i];
  }
  return codec::valid_topic_name(out) ? out : "events/" + sanitize_level(ev.type());
}

MeshLink::MeshLink(Runtime& runtime, MeshOptions options, std::shared_ptr<Broker> broker)
    : runtime_(runtime), options_(std::move(options)), broker_(std::move(broker)),
      factory_(std::make_unique<MqttSinkFactory>(*this)) {}

Result<void> MeshLink::subscribe(const DeliveryPolicy& delivery) {
  Subscription sub;
  sub.id = std::string(kListenerSubscriptionId);
  sub.sink.protocol = std::string(kListenerProtocol);
  sub.sink.uri = "mqtt://listener";
  sub.delivery = delivery;
  sub.delivery.dead_letter.reset();
  sub.declared_in_config = true;
  auto created = runtime_.create(std::move(sub));
  if (!created) return std::unexpected(created.error());
  return {};
}

bool MeshLink::others_listening() const {
  auto s = runtime_.routing_stats();
  return s.base + s.runs > s.dead + 1;
}

std::expected<EventPtr, IngestRefusal> MeshLink::decode(const Message& m, const std::string& client_id,
                                                       std::uint8_t version) const {
  codec::MqttMessage mm{m.topic, *m.payload, m.qos, m.retain, version, m.props.content_type,
                        m.props.user_properties};
  codec::MqttIngestDefaults defaults{client_id, options_.source_prefix, options_.topic_types,
                                     options_.default_type};
  auto ev = codec::decode_mqtt(std::move(mm), defaults);
  if (!ev)
    return std::unexpected(IngestRefusal{
        reason_for(ev.error().code),
        "not a valid CloudEvent: " +
            (ev.error().pointer.empty() || ev.error().message.find(ev.error().pointer) != std::string::npos
                 ? ev.error().message
                 : ev.error().pointer + ": " + ev.error().message)});
  return *ev;
}

std::optional<IngestRefusal> MeshLink::ingest(const Message& m, const std::string& client_id,
                                              std::uint8_t version, EventPtr decoded,
                                              const std::function<IngestDone()>& later) {
  if (!others_listening()) return std::nullopt;
  if (!decoded) {
    auto ev = decode(m, client_id, version);
    if (!ev) return std::move(ev.error());
    decoded = std::move(*ev);
  }
  {
    std::lock_guard lock(own_->mutex);
    own_->events.emplace(decoded.get(), decoded);
  }
  auto defer = [&]() -> Runtime::PublishCallback {
    return [own = own_, ev = decoded, done = later()](Result<PublishReceipt> committed) {
      if (committed) return done(std::nullopt);
      own->forget(ev.get());
      done(IngestRefusal{reason_for(committed.error().code), refusal_text(committed.error())});
    };
  };
  auto published = runtime_.publish(std::span<const EventPtr>(&decoded, 1), defer);
  if (!published || *published) return std::nullopt;
  own_->forget(decoded.get());
  const auto code = published->error().code;
  return IngestRefusal{reason_for(code), refusal_text(published->error()), code == Errc::overloaded};
}

std::optional<std::string> MeshLink::mapped_type(std::string_view topic) const {
  for (const auto& t : options_.topic_types)
    if (codec::topic_matches(t.filter, topic)) return t.type;
  return std::nullopt;
}

void MeshLink::deliver(const EventPtr& ev, std::function<void()> done) {
  {
    std::lock_guard lock(own_->mutex);
    if (own_->events.erase(ev.get())) return done();  // came from MQTT: delivered at ingress
  }
  auto ack = std::make_shared<AckWhenRoom>(std::move(done));
  auto routed = broker_->publish(to_message(*ev), ack);
  ack->release(AckWhenRoom::kUnknown - routed.waiting);
}

MessagePtr MeshLink::to_message(const Event& ev) const {
  auto topic = topic_for(ev, options_.event_topic);
  auto v5 = codec::encode_mqtt(ev, options_.event_mode, kMqtt5, topic);
  auto v311 = codec::encode_mqtt(ev, codec::MqttMode::structured, kMqtt311, topic);
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->qos = options_.event_qos;
  m->type = ev.type();
  m->payload = std::make_shared<const std::string>(std::move(v5.payload));
  m->props.content_type = std::move(v5.content_type);
  m->props.user_properties = std::move(v5.user_properties);
  if (v311.payload != *m->payload) m->payload_v311 = std::make_shared<const std::string>(std::move(v311.payload));
  return m;
}

}  // namespace evmesh::mqtt
