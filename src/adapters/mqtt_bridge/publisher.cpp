#include "publisher.h"

#include <vector>

#include <spdlog/spdlog.h>

#include "paho_message.h"

namespace evmesh::mqtt_bridge {
namespace {

constexpr std::chrono::milliseconds kSweepInterval{100};

DeliveryOutcome retry(std::string why) {
  return {DeliveryOutcome::Kind::retry, 0, std::move(why), std::nullopt};
}

// MQTT 5 PUBACK reason codes that no retry can change.
bool permanent_reason(mqtt::ReasonCode rc) {
  switch (rc) {
    case mqtt::ReasonCode::NOT_AUTHORIZED:
    case mqtt::ReasonCode::TOPIC_NAME_INVALID:
    case mqtt::ReasonCode::PAYLOAD_FORMAT_INVALID:
    case mqtt::ReasonCode::PACKET_TOO_LARGE:
      return true;
    default:
      return false;
  }
}

std::uint64_t seq_of(const mqtt::token& tok) {
  return reinterpret_cast<std::uintptr_t>(tok.get_user_context());
}

}  // namespace

// Paho calls this on its thread when a publish completes (PUBACK) or fails.
// It lives as long as the connection's client (see Connection::keep_alive), so a
// completion Paho reports while tearing down finds it; the publisher may be gone.
class Publisher::Listener final : public mqtt::iaction_listener {
 public:
  explicit Listener(std::weak_ptr<Publisher> p) : p_(std::move(p)) {}
  void on_success(const mqtt::token& tok) override {
    if (auto p = p_.lock())
      p->complete(seq_of(tok), {DeliveryOutcome::Kind::delivered, 0, {}, std::nullopt});
  }
  void on_failure(const mqtt::token& tok) override {
    const auto rc = tok.get_reason_code();
    const auto code = static_cast<int>(rc);
    DeliveryOutcome out = retry("MQTT publish failed (code " + std::to_string(tok.get_return_code()) +
                                ", reason " + std::to_string(code) + ")");
    out.status = code;
    if (permanent_reason(rc)) out.kind = DeliveryOutcome::Kind::permanent;
    if (auto p = p_.lock()) p->complete(seq_of(tok), std::move(out));
  }

 private:
  std::weak_ptr<Publisher> p_;
};

Publisher::Publisher(boost::asio::any_io_executor ex, std::shared_ptr<Connection> connection)
    : connection_(std::move(connection)),
      sweep_timer_(ex) {}

Publisher::~Publisher() = default;

void Publisher::start() {
  listener_ = std::make_shared<Listener>(weak_from_this());
  connection_->keep_alive(listener_);
  sweep();
}

void Publisher::publish(codec::MqttMessage&& msg, std::chrono::milliseconds timeout, Done done) {
  std::uint64_t seq;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || !listener_) return done(retry("the MQTT bridge is not running"));
    seq = next_seq_++;
    pending_.emplace(seq, Pending{std::chrono::steady_clock::now() + timeout, std::move(done)});
  }
  if (!connection_->connected())
    return complete(seq, retry("MQTT bridge " + connection_->name() + " is not connected"));
  try {
    connection_->client().publish(to_paho(std::move(msg)),
                                  reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq)),
                                  *listener_);
  } catch (const mqtt::exception& e) {
    // Disconnected meanwhile, or max_in_flight publishes outstanding.
    complete(seq, retry("MQTT bridge " + connection_->name() + ": " + e.what()));
  }
}

void Publisher::complete(std::uint64_t seq, DeliveryOutcome outcome) {
  Done done;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(seq);
    if (it == pending_.end()) return;  // already timed out: a late PUBACK
    done = std::move(it->second.done);
    pending_.erase(it);
  }
  done(std::move(outcome));
}

void Publisher::sweep() {
  std::vector<std::uint64_t> expired;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [seq, p] : pending_)
      if (p.deadline <= now) expired.push_back(seq);
  }
  for (auto seq : expired) complete(seq, retry("no PUBACK from the MQTT broker within the timeout"));
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->sweep();
  });
}

void Publisher::stop() {
  std::map<std::uint64_t, Pending> left;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    left.swap(pending_);
  }
  for (auto& [seq, p] : left) p.done(retry("the MQTT bridge stopped"));
}

}  // namespace evmesh::mqtt_bridge
