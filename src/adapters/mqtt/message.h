// An application message inside the broker: what a PUBLISH carries, shared
// immutable across every subscriber it fans out to (the payload is never copied).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "packet.h"

namespace evmesh::mqtt {

using Clock = std::chrono::steady_clock;
using PayloadPtr = std::shared_ptr<const std::string>;

struct Message {
  std::string topic;
  std::uint8_t qos = 0;
  bool retain = false;
  // What MQTT 5 subscribers get: the publisher's properties minus topic alias and
  // subscription identifiers (those are per connection).
  PayloadPtr payload;
  Properties props;
  // What MQTT 3.1.1 subscribers get when it differs (an event from the mesh is
  // re-encoded structured for them); null = same payload as 5.0.
  PayloadPtr payload_v311;
  std::string origin_client;  // for No Local; empty for events from the mesh
  // The CloudEvent type, for the per-subscriber ACL check: always set for events
  // from the mesh, for MQTT publishes only while an ACL is enabled (empty: unchecked).
  std::string type;
  std::optional<Clock::time_point> expires_at;  // message expiry interval

  const std::string& payload_for(std::uint8_t version) const {
    return version == kMqtt311 && payload_v311 ? *payload_v311 : *payload;
  }
  PayloadPtr payload_ptr_for(std::uint8_t version) const {
    return version == kMqtt311 && payload_v311 ? payload_v311 : payload;
  }

  Message() = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message() {
    for (auto& h : qos0_heads_) delete h.load(std::memory_order_relaxed);
  }

  // The encoded PUBLISH head of a plain QoS 0 delivery (not retained, no subscription
  // identifier) for protocol slot 0 (3.1.1) or 1 (5.0): made by the first subscriber
  // that needs it and shared by the rest. A compare-exchange rather than std::call_once,
  // whose first call (so every message) costs glibc a futex syscall.
  template <typename Make>
  const std::string& qos0_head(int slot, Make&& make) const {
    auto& h = qos0_heads_[slot];
    if (const auto* made = h.load(std::memory_order_acquire)) return *made;
    const std::string* mine = new std::string(make());
    const std::string* expected = nullptr;
    if (h.compare_exchange_strong(expected, mine, std::memory_order_acq_rel)) return *mine;
    delete mine;  // another subscriber's thread made it first
    return *expected;
  }

 private:
  mutable std::atomic<const std::string*> qos0_heads_[2]{};
};

using MessagePtr = std::shared_ptr<const Message>;

// One message due to one subscriber.
struct Delivery {
  MessagePtr msg;
  std::uint8_t qos = 0;         // min(message QoS, granted QoS)
  bool retain = false;          // the RETAIN flag to send
  std::vector<std::uint32_t> subscription_ids;
};

}  // namespace evmesh::mqtt
