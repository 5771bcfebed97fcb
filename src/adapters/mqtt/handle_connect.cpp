// CONNECT and DISCONNECT (MQTT 3.1.1 3.1/3.14, 5.0 3.1/3.14).
//
// Design note: what the server decides at CONNECT
// - Empty client id: 3.1.1 with clean session 0 is refused (CONNACK 0x02); otherwise
//   the server assigns "evmesh-<random hex>" (5.0 returns it in Assigned Client
//   Identifier).
// - Session expiry: 5.0 takes the client's interval capped at max_session_expiry
//   (the CONNACK says so when capped); 3.1.1 clean session 0 gets max_session_expiry.
// - A client id already connected: the old connection is closed (0x8E in 5.0) and
//   the session continues unless Clean Start.
// - Enhanced authentication (5.0 Authentication Method): SCRAM-SHA-256 only
//   (handle_auth.cpp); any other method gets 0x8C.
// - Credentials (docs/security.md): a user name or password is checked by
//   AccessControl::authenticate_password (api_keys principal + key, or a JWT as the
//   password); wrong ones get 0x86 (3.1.1: 0x04). Neither is anonymous, accepted
//   only while AccessControl allows it, else 0x87 (3.1.1: 0x05); over TLS a verified
//   client certificate names the principal when neither is sent. Refusals are
//   counted and logged by AccessControl as "unauthenticated".
// - Keep alive: a 5.0 client asking more than mqtt.max_keep_alive, or 0 (none), gets
//   Server Keep Alive = the maximum, which is then enforced (3.2.2.3.14). A 3.1.1
//   CONNACK cannot carry it, so 3.1.1 clients keep their own value (0: none).
#include <random>

#include "connection.h"
#include "evmesh/core/event.h"

namespace evmesh::mqtt {

namespace {

std::string assign_client_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "evmesh-";
  auto bits = rng();
  for (int i = 0; i < 16; ++i, bits >>= 4) id.push_back(kHex[bits & 0xF]);
  return id;
}

MessagePtr make_will(const Will& w, const std::string& client_id) {
  auto m = std::make_shared<Message>();
  m->topic = w.topic;
  m->qos = w.qos;
  m->retain = w.retain;
  m->payload = std::make_shared<const std::string>(w.payload);
  m->props.payload_format = w.props.payload_format;
  m->props.content_type = w.props.content_type;
  m->props.response_topic = w.props.response_topic;
  m->props.correlation_data = w.props.correlation_data;
  m->props.user_properties = w.props.user_properties;
  if (w.props.message_expiry) m->expires_at = Clock::now() + std::chrono::seconds(*w.props.message_expiry);
  m->origin_client = client_id;
  return m;
}

}  // namespace

void Connection::refuse_connack(std::uint8_t v5_reason, std::uint8_t v3_code, std::string why) {
  ctx_->log->debug("{}: CONNECT refused: {}", tag(), why);
  const bool v5 = version_ == kMqtt5;
  Connack ack{false, v5 ? v5_reason : v3_code, {}};
  if (v5) ack.props.reason_string = why.substr(0, 512);
  send(ack);
  close_after_write();
}

void Connection::on_connect(Connect&& c) {
  version_ = c.version;
  const bool v5 = version_ == kMqtt5;
  if (ctx_->stopping)
    return refuse_connack(reason::server_unavailable, reason::v3_server_unavailable, "the server is stopping");
  if (v5 && c.props.auth_method) return start_auth(std::move(c));  // handle_auth.cpp
  if (ctx_->access) {
    if (c.username || c.password) {
      auto who = ctx_->access->authenticate_password(c.username.value_or(""), c.password.value_or(""), "mqtt");
      if (!who)
        return refuse_connack(reason::bad_username_password, reason::v3_bad_username_password,
                              who.error().message);
      principal_ = std::move(*who);
    } else {
      // No user name or password: a verified client certificate (mqtt.tls), else anonymous.
      auto who = ctx_->access->authenticate({{}, &socket_.peer_certificate()}, "mqtt");
      if (!who) return refuse_connack(reason::not_authorized, reason::v3_not_authorized, who.error().message);
      principal_ = std::move(*who);
    }
  }
  accept_connect(std::move(c), std::nullopt);
}

void Connection::accept_connect(Connect&& c, std::optional<std::string> auth_reply) {
  const bool v5 = version_ == kMqtt5;
  bool assigned = false;
  if (c.client_id.empty()) {
    if (!v5 && !c.clean_start)
      return refuse_connack(reason::client_id_not_valid, reason::v3_identifier_rejected,
                    "an empty client id needs clean session 1 in MQTT 3.1.1");
    c.client_id = assign_client_id();
    assigned = true;
  }
  client_id_ = c.client_id;

  const auto& limits = ctx_->broker->limits();
  bool expiry_capped = false;
  if (v5) {
    session_expiry_ = c.props.session_expiry.value_or(0);
    if (session_expiry_ > limits.max_session_expiry && session_expiry_ != 0) {
      session_expiry_ = limits.max_session_expiry;
      expiry_capped = true;
    }
    client_receive_maximum_ = c.props.receive_maximum.value_or(65535);
    client_max_packet_ = c.props.maximum_packet_size.value_or(0);
    client_alias_maximum_ = c.props.topic_alias_maximum.value_or(0);
    problem_info_ = c.props.request_problem_info.value_or(1) == 1;
  } else {
    session_expiry_ = c.clean_start ? 0 : limits.max_session_expiry;
  }
  connect_expiry_zero_ = session_expiry_ == 0;
  if (c.will) {
    will_ = make_will(*c.will, client_id_);
    will_delay_ = c.will->props.will_delay.value_or(0);
  }
  std::optional<std::uint16_t> server_keep_alive;
  if (v5 && (c.keep_alive == 0 || c.keep_alive > ctx_->limits.max_keep_alive))
    server_keep_alive = c.keep_alive = ctx_->limits.max_keep_alive;
  keepalive_span_ = std::chrono::milliseconds(c.keep_alive) * 1500;  // 1.5 x seconds

  auto attached = ctx_->broker->attach(client_id_, c.clean_start, shared_from_this(), principal_.name);
  session_ = attached.session;
  if (attached.previous) attached.previous->take_over();

  Connack ack{attached.present, reason::success, {}};
  if (v5) {
    ack.props.receive_maximum = ctx_->limits.receive_maximum;
    ack.props.maximum_packet_size = ctx_->limits.max_packet_bytes;
    ack.props.topic_alias_maximum = ctx_->limits.topic_alias_maximum;
    if (assigned) ack.props.assigned_client_id = client_id_;
    if (expiry_capped) ack.props.session_expiry = session_expiry_;
    ack.props.server_keep_alive = server_keep_alive;
    if (!auth_method_.empty()) {
      ack.props.auth_method = auth_method_;
      ack.props.auth_data = std::move(auth_reply);
    }
  }
  send(ack);
  connack_sent_ = true;
  ctx_->log->debug("{}: connected, MQTT {}, clean start {}, session present {}, keep alive {}s, principal '{}'",
                   tag(), v5 ? "5.0" : "3.1.1", c.clean_start, attached.present, c.keep_alive, principal_.name);
  if (keepalive_span_.count() > 0)
    arm_keepalive(keepalive_span_);
  else
    stop_keepalive();
  if (attached.present) resend_inflight();
  flush();
  check_slow();  // a resumed session may be full with publishers waiting on it
}

void Connection::on_disconnect(const Disconnect& d) {
  if (version_ == kMqtt5 && d.props.session_expiry) {
    if (connect_expiry_zero_ && *d.props.session_expiry != 0)
      return fail(reason::protocol_error, "DISCONNECT sets a session expiry after CONNECT set 0");
    session_expiry_ = std::min(*d.props.session_expiry, ctx_->broker->limits().max_session_expiry);
  }
  // A normal DISCONNECT discards the will; 0x04 asks for it to be sent (3.14.2.1).
  if (d.reason != reason::disconnect_with_will) will_ = nullptr;
  ctx_->log->debug("{}: DISCONNECT reason 0x{:02x}", tag(), d.reason);
  close_after_write();
}

}  // namespace evmesh::mqtt
