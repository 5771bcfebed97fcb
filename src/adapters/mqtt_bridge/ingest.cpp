#include "ingest.h"

#include <random>
#include <span>
#include <thread>

#include <spdlog/spdlog.h>

#include "evmesh/core/backoff.h"
#include "paho_message.h"

namespace evmesh::mqtt_bridge {

Ingest::Ingest(const control::MqttBridgeConfig& config, std::shared_ptr<Connection> connection,
               Runtime& runtime)
    : config_(config), connection_(std::move(connection)), runtime_(runtime) {
  // Plain messages: source /mqtt-bridge/NAME (the publisher behind the external
  // broker is unknown), type from the bridge's topic mapping.
  defaults_.client_id = config.name;
  defaults_.source_prefix = "/mqtt-bridge/";
  defaults_.default_type = config.default_type;
  for (const auto& t : config.types) defaults_.topic_types.push_back({t.filter, t.type});
  connection_->on_connected([this](mqtt::async_client& c) { subscribe(c); });
  connection_->on_message([this](const mqtt::const_message_ptr& m) { handle(m); });
}

void Ingest::subscribe(mqtt::async_client& client) {
  if (config_.subscribe.empty()) return;
  auto filters = mqtt::string_collection::create(config_.subscribe);
  mqtt::iasync_client::qos_collection qos(config_.subscribe.size(), 1);
  // MQTT 5: retained messages only when the subscription is new, so a reconnect
  // does not ingest them again.
  std::vector<mqtt::subscribe_options> options(
      config_.subscribe.size(),
      mqtt::subscribe_options(false, false, mqtt::subscribe_options::SEND_RETAINED_ON_NEW));
  try {
    if (config_.protocol_version == 5)
      client.subscribe(filters, qos, options);
    else
      client.subscribe(filters, qos);
  } catch (const mqtt::exception& e) {
    // The connection is gone again; the next connect subscribes.
    spdlog::warn("bridge {}: subscribe failed: {}", connection_->name(), e.what());
  }
}

void Ingest::handle(const mqtt::const_message_ptr& m) {
  if (m->get_payload_ref().size() > config_.max_message_bytes) {
    ++invalid_;
    spdlog::warn("bridge {}: message on '{}' dropped: {} bytes exceed max_message_bytes ({})",
                 connection_->name(), m->get_topic(), m->get_payload_ref().size(),
                 config_.max_message_bytes);
    return;
  }
  auto decoded = codec::decode_mqtt(from_paho(*m, config_.protocol_version), defaults_);
  if (!decoded) {
    ++invalid_;
    spdlog::warn("bridge {}: message on '{}' dropped: not a valid event: {}{}", connection_->name(),
                 m->get_topic(), decoded.error().pointer.empty() ? "" : decoded.error().pointer + ": ",
                 decoded.error().message);
    return;
  }
  const EventPtr ev = std::move(*decoded);
  // Overloaded: wait on this (Paho's) thread, so the socket is not read meanwhile.
  RetryPolicy wait;
  wait.initial_backoff = std::chrono::milliseconds(10);
  wait.max_backoff = std::chrono::milliseconds(500);
  std::mt19937_64 rng(std::random_device{}());
  for (std::uint32_t attempt = 2;; ++attempt) {
    auto accepted = runtime_.publish(std::span(&ev, 1));
    if (accepted) {
      ++ingested_;
      return;
    }
    if (accepted.error().code != Errc::overloaded || stopping_) {
      ++lost_;
      spdlog::warn("bridge {}: event '{}' from topic '{}' lost: {}", connection_->name(), ev->id(),
                   m->get_topic(), accepted.error().message);
      return;
    }
    if (attempt == 2)
      spdlog::debug("bridge {}: the mesh is overloaded ({}); waiting before reading more",
                    connection_->name(), accepted.error().message);
    std::this_thread::sleep_for(backoff_delay(wait, std::min(attempt, 20u), std::nullopt, rng));
  }
}

IngestStats Ingest::stats() const { return {ingested_.load(), invalid_.load(), lost_.load()}; }

}  // namespace evmesh::mqtt_bridge
