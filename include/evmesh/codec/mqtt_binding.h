// The CloudEvents MQTT protocol binding (mqtt-protocol-binding.md), both directions,
// independent of any MQTT library: a message is a topic, a payload and the few
// PUBLISH fields the binding reads. Used by the native MQTT listener and the Paho
// bridges alike.
//
// Decoding, in this order (docs/protocols.md has the table):
//  - Content Type starting "application/cloudevents" -> structured mode; only
//    application/cloudevents+json is understood, any other format is refused.
//  - MQTT 5 with a `specversion` user property -> binary mode: every user property
//    is an attribute (name unchanged), Content Type is datacontenttype, the payload
//    is data. A repeated attribute is an error.
//  - MQTT 3.1.1 whose payload is a JSON object with a "specversion" member ->
//    structured mode (3.1.1 implies application/cloudevents+json).
//  - Anything else is a plain message and becomes a CloudEvent with the defaults
//    of MqttIngestDefaults: a generated id, source from the client id, type from
//    the first topic mapping whose filter matches (else default_type), subject and
//    the `mqtttopic` extension set to the topic, datacontenttype from Content Type
//    (or application/json when the payload is JSON), the payload as data.
//
// Encoding: binary mode needs MQTT 5 (user properties); asked of 3.1.1 it writes
// structured mode, the only mode 3.1.1 has.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evmesh/core/event.h"

namespace evmesh::codec {

enum class MqttMode { binary, structured };

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  int protocol_version = 5;  // 4 (MQTT 3.1.1) or 5
  std::optional<std::string> content_type;  // MQTT 5 Content Type property
  std::vector<std::pair<std::string, std::string>> user_properties;  // MQTT 5, in order
};

// A topic filter (MQTT wildcards + and #) and the event type a plain message
// published on a matching topic gets.
struct MqttTopicType {
  std::string filter;
  std::string type;
};

struct MqttIngestDefaults {
  std::string client_id;                       // the publisher; part of `source`
  std::string source_prefix = "/mqtt/";        // source = prefix + percent-encoded client id
  std::vector<MqttTopicType> topic_types;      // first match wins
  std::string default_type = "io.evmesh.mqtt.message";
};

inline constexpr std::string_view kMqttTopicExtension = "mqtttopic";

// Decodes a received PUBLISH. The payload is moved into the event when the mode is
// binary or plain. Errors: invalid_event (pointer = attribute), invalid_format (bad
// structured JSON), unsupported_media (a CloudEvents format other than JSON).
Result<EventPtr> decode_mqtt(const MqttMessage& msg, const MqttIngestDefaults& defaults);
Result<EventPtr> decode_mqtt(MqttMessage&& msg, const MqttIngestDefaults& defaults);

// Encodes an event for a PUBLISH on `topic` (qos 0, no retain: the caller sets those).
MqttMessage encode_mqtt(const Event& ev, MqttMode mode, int protocol_version, std::string topic);

// MQTT topic matching (MQTT 5.0 4.7): `+` one level, `#` this level and all below,
// topics starting with '$' are not matched by a leading wildcard. The filter must be
// valid (see valid_topic_filter).
bool topic_matches(std::string_view filter, std::string_view topic);
// A topic name: non-empty, no '+' or '#', no NUL.
bool valid_topic_name(std::string_view topic);
// A topic filter: non-empty, '#' only last and alone in its level, '+' alone in its
// level, no NUL.
bool valid_topic_filter(std::string_view filter);

}  // namespace evmesh::codec
