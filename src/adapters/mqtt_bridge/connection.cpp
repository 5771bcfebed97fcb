#include "connection.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "evmesh/core/backoff.h"

namespace evmesh::mqtt_bridge {
namespace asio = boost::asio;

// Paho calls this on its thread when a connect attempt ends.
class Connection::ConnectListener final : public mqtt::iaction_listener {
 public:
  explicit ConnectListener(Connection& c) : c_(c) {}
  void on_success(const mqtt::token&) override {}  // the connected handler does the work
  void on_failure(const mqtt::token& tok) override {
    c_.on_connect_failed("connect failed (code " + std::to_string(tok.get_return_code()) +
                         ", reason " + std::to_string(static_cast<int>(tok.get_reason_code())) +
                         ")");
  }

 private:
  Connection& c_;
};

namespace {

mqtt::connect_options make_options(const control::MqttBridgeConfig& c) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  mqtt::connect_options_builder b;
  b.keep_alive_interval(std::max(seconds(1), duration_cast<seconds>(c.keepalive)))
      .connect_timeout(std::max(seconds(1), duration_cast<seconds>(c.connect_timeout)))
      .max_inflight(static_cast<int>(c.max_in_flight))
      .automatic_reconnect(false)
      .clean_session(false);
  if (c.protocol_version == 5) {
    b.mqtt_version(MQTTVERSION_5).clean_start(false);  // session expiry: see the constructor
  } else {
    b.mqtt_version(MQTTVERSION_3_1_1);
  }
  if (!c.username.empty()) b.user_name(c.username);
  if (!c.password.empty()) b.password(c.password);
  return b.finalize();
}

}  // namespace

Connection::Connection(asio::any_io_executor ex, const control::MqttBridgeConfig& config,
                       std::string role)
    : config_(config),
      name_(config.name + "/" + role),
      strand_(asio::make_strand(ex)),
      timer_(strand_),
      listener_(std::make_unique<ConnectListener>(*this)),
      client_(std::make_unique<mqtt::async_client>(
          config.url, config.client_id + "-" + role,
          mqtt::create_options(config.protocol_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1),
          nullptr)),
      options_(make_options(config)) {
  // Set on the final object, not through the builder: Paho C++ 1.2's builder leaves a
  // dangling connect-properties pointer behind (paho.mqtt.cpp issue #362), which
  // crashes MQTTAsync_connect.
  if (config.protocol_version == 5) {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    options_.set_properties(mqtt::properties{
        {mqtt::property::SESSION_EXPIRY_INTERVAL,
         static_cast<int32_t>(duration_cast<seconds>(config.session_expiry).count())}});
  }
}

Connection::~Connection() = default;

void Connection::start() {
  client_->set_connected_handler([this](const std::string&) {
    spdlog::info("bridge {}: connected to {}", name_, config_.url);
    asio::post(strand_, [self = shared_from_this()] { self->failures_ = 0; });
    if (connected_handler_) connected_handler_(*client_);
  });
  client_->set_connection_lost_handler([this](const std::string& cause) {
    spdlog::warn("bridge {}: connection to {} lost{}{}", name_, config_.url,
                 cause.empty() ? "" : ": ", cause);
    if (!stopping_) asio::post(strand_, [self = shared_from_this()] { self->schedule_reconnect(); });
  });
  if (message_handler_) client_->set_message_callback(message_handler_);
  asio::post(strand_, [self = shared_from_this()] { self->do_connect(); });
}

// On strand_.
void Connection::do_connect() {
  if (stopping_) return;
  try {
    client_->connect(options_, nullptr, *listener_);
  } catch (const mqtt::exception& e) {
    // Paho refuses a connect while one is in progress or after a lost connection
    // it has not cleaned up yet; try again later.
    on_connect_failed(e.what());
  }
}

void Connection::on_connect_failed(const std::string& why) {
  asio::post(strand_, [self = shared_from_this(), why] {
    if (self->stopping_) return;
    spdlog::warn("bridge {}: cannot connect to {}: {}", self->name_, self->config_.url, why);
    self->schedule_reconnect();
  });
}

// On strand_.
void Connection::schedule_reconnect() {
  if (stopping_) return;
  RetryPolicy policy;
  policy.initial_backoff = config_.initial_backoff;
  policy.max_backoff = config_.max_backoff;
  const auto delay = backoff_delay(policy, ++failures_ + 1, std::nullopt, rng_);
  spdlog::debug("bridge {}: reconnecting in {} ms (attempt {})", name_, delay.count(), failures_ + 1);
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->do_connect();
  });
}

void Connection::stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) return;
  asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  try {
    if (client_->is_connected()) client_->disconnect(static_cast<int>(grace.count()))->wait_for(grace);
  } catch (const mqtt::exception& e) {
    spdlog::debug("bridge {}: disconnect: {}", name_, e.what());
  }
  spdlog::info("bridge {}: disconnected", name_);
}

}  // namespace evmesh::mqtt_bridge
