// The topic an MQTT bridge sink publishes an event to. A sink is
// "mqtt://BRIDGE/TOPIC"; TOPIC may hold placeholders `{attribute}` filled from the
// event, so one subscription can fan events out by attribute:
//   mqtt://plant/orders/{type}        type "com.shop.created" -> orders/com.shop.created
//   mqtt://plant/devices/{subject}/in subject "42"             -> devices/42/in
// An event without the attribute, or whose value would put a wildcard (+ #) or NUL
// into the topic, cannot be published: expand() says why (a permanent failure, the
// event goes to the dead-letter sink).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "evmesh/core/error.h"
#include "evmesh/core/event.h"

namespace evmesh::mqtt_bridge {

struct SinkAddress {
  std::string bridge;  // the name under mqtt_bridges
  std::string topic;   // the template as written
};

// Splits "mqtt://BRIDGE/TOPIC". Errors (invalid_subscription, pointer "sink") name
// what is missing.
Result<SinkAddress> parse_sink_uri(std::string_view uri);

class TopicTemplate {
 public:
  // Checks the template: non-empty, balanced braces naming attributes, no + # NUL
  // in its fixed text. Errors are invalid_subscription with pointer "sink".
  static Result<TopicTemplate> parse(std::string_view text);

  // The topic for `ev`; invalid_event naming the attribute when it cannot be built.
  Result<std::string> expand(const Event& ev) const;

 private:
  struct Part {
    std::string text;
    bool attribute = false;  // text is an attribute name
  };
  std::vector<Part> parts_;
};

}  // namespace evmesh::mqtt_bridge
