#include "paho_message.h"

namespace evmesh::mqtt_bridge {

codec::MqttMessage from_paho(const mqtt::message& m, int protocol_version) {
  codec::MqttMessage out;
  out.topic = m.get_topic();
  out.payload = m.get_payload_str();
  out.qos = m.get_qos();
  out.retain = m.is_retained();
  out.protocol_version = protocol_version;
  if (protocol_version != 5) return out;
  const auto& props = m.get_properties().c_struct();
  for (int i = 0; i < props.count; ++i) {
    const auto& p = props.array[i];
    auto text = [](const MQTTLenString& s) {
      return s.data ? std::string(s.data, static_cast<std::size_t>(s.len)) : std::string();
    };
    if (p.identifier == MQTTPROPERTY_CODE_CONTENT_TYPE)
      out.content_type = text(p.value.data);
    else if (p.identifier == MQTTPROPERTY_CODE_USER_PROPERTY)
      out.user_properties.emplace_back(text(p.value.data), text(p.value.value));
  }
  return out;
}

mqtt::message_ptr to_paho(codec::MqttMessage&& m) {
  auto msg = mqtt::make_message(std::move(m.topic), std::move(m.payload), 1, false);
  if (m.protocol_version == 5) {
    mqtt::properties props;
    if (m.content_type) props.add({mqtt::property::CONTENT_TYPE, *m.content_type});
    for (auto& [name, value] : m.user_properties)
      props.add({mqtt::property::USER_PROPERTY, name, value});
    msg->set_properties(std::move(props));
  }
  return msg;
}

}  // namespace evmesh::mqtt_bridge
