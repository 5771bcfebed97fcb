#include "mesh_link.h"

namespace evmesh::mqtt {

namespace {

class MqttEventSink final : public Sink {
 public:
  explicit MqttEventSink(MeshLink& link) : link_(link) {}
  void send(EventPtr ev, std::function<void(DeliveryOutcome)> done) override {
    link_.deliver(ev);
    done(DeliveryOutcome{});
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
                                              std::uint8_t version, EventPtr decoded) {
  if (!others_listening()) return std::nullopt;
  if (!decoded) {
    auto ev = decode(m, client_id, version);
    if (!ev) return std::move(ev.error());
    decoded = std::move(*ev);
  }
  auto ev = &decoded;
  {
    std::lock_guard lock(own_mutex_);
    own_.emplace(ev->get(), *ev);
  }
  auto published = runtime_.publish(std::span<const EventPtr>(&*ev, 1));
  if (!published) {
    std::lock_guard lock(own_mutex_);
    own_.erase(ev->get());
    // The reason string lists what is wrong (schema violations), as HTTP and gRPC do.
    auto why = published.error().message;
    for (const auto& d : published.error().details) {
      if (why.size() + d.size() > 1024) break;  // keep the PUBACK small
      why += (&d == &published.error().details.front() ? ": " : "; ") + d;
    }
    return IngestRefusal{reason_for(published.error().code), std::move(why)};
  }
  return std::nullopt;
}

void MeshLink::deliver(const EventPtr& ev) {
  {
    std::lock_guard lock(own_mutex_);
    if (own_.erase(ev.get())) return;  // came from MQTT: delivered at ingress
  }
  broker_->publish(to_message(*ev));
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
