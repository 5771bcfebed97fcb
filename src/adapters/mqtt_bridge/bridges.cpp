#include "bridges.h"

#include <spdlog/spdlog.h>

#include "bridge_sink.h"
#include "connection.h"
#include "ingest.h"
#include "publisher.h"
#include "topic_template.h"

namespace evmesh::mqtt_bridge {
namespace {
constexpr std::chrono::milliseconds kDisconnectGrace{2'000};
}

Result<std::unique_ptr<MqttBridges>> MqttBridges::create(
    boost::asio::any_io_executor ex, const std::vector<control::MqttBridgeConfig>& configs) {
  std::unique_ptr<MqttBridges> out(new MqttBridges());
  for (const auto& c : configs) {
    Bridge b{c, nullptr, nullptr, nullptr};
    try {
      if (!c.subscribe.empty()) b.in = std::make_shared<Connection>(ex, c, "in");
      b.publisher = std::make_shared<Publisher>(ex, std::make_shared<Connection>(ex, c, "out"));
    } catch (const mqtt::exception& e) {
      return fail(Errc::internal, "MQTT bridge '" + c.name + "' (" + c.url + "): " + e.what());
    }
    out->bridges_.emplace(c.name, std::move(b));
  }
  return out;
}

MqttBridges::~MqttBridges() { stop(); }

Result<std::shared_ptr<Sink>> MqttBridges::make(const SinkSpec& spec) {
  auto address = parse_sink_uri(spec.uri);
  if (!address) return std::unexpected(address.error());
  auto it = bridges_.find(address->bridge);
  if (it == bridges_.end()) {
    std::string known;
    for (const auto& [name, _] : bridges_) known += (known.empty() ? "" : ", ") + name;
    return fail(Errc::invalid_subscription,
                "sink: no MQTT bridge named '" + address->bridge + "' (configured: " +
                    (known.empty() ? "none" : known) + ")",
                "sink");
  }
  auto topic = TopicTemplate::parse(address->topic);
  if (!topic) return std::unexpected(topic.error());
  return std::make_shared<BridgeSink>(it->second.publisher, std::move(*topic), spec.mode,
                                      spec.timeout);
}

void MqttBridges::start(Runtime& runtime) {
  for (auto& [name, b] : bridges_) {
    b.publisher->start();
    b.publisher->connection()->start();
    if (b.in) {
      b.ingest = std::make_unique<Ingest>(b.config, b.in, runtime);
      b.in->start();
    }
    spdlog::info("bridge {}: {} (MQTT {}), ingesting {} topic filter(s)", name, b.config.url,
                 b.config.protocol_version == 5 ? "5.0" : "3.1.1", b.config.subscribe.size());
  }
}

void MqttBridges::stop_ingest() {
  for (auto& [name, b] : bridges_) {
    if (!b.in) continue;
    if (b.ingest) b.ingest->stop();
    b.in->stop(kDisconnectGrace);
    if (b.ingest) {
      const auto s = b.ingest->stats();
      spdlog::info("bridge {}: ingested {} event(s), dropped {} invalid, lost {}", b.in->name(),
                   s.ingested, s.invalid, s.lost);
    }
  }
}

void MqttBridges::stop() {
  stop_ingest();
  for (auto& [name, b] : bridges_) {
    b.publisher->stop();
    b.publisher->connection()->stop(kDisconnectGrace);
  }
}

}  // namespace evmesh::mqtt_bridge
