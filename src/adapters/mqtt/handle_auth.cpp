// Enhanced authentication (MQTT 5.0 4.12, 3.15): SCRAM-SHA-256 against the
// auth.api_keys pbkdf2-sha256 keys (control/scram.h, docs/protocols.md).
//
// Design note
// - CONNECT with Authentication Method SCRAM-SHA-256 and the client-first-message as
//   Authentication Data -> AUTH 0x18 with the server-first-message; the client's AUTH
//   0x18 with the client-final-message -> CONNACK 0x00 carrying the server-final
//   message, and the connection goes on as any CONNECT would (principal = the user).
//   Until then only AUTH or DISCONNECT may come. Any other method: CONNACK 0x8C.
// - A failed exchange (bad message, unknown user, wrong proof): CONNACK 0x87, counted
//   and logged by AccessControl like a refused password.
// - Re-authentication after CONNACK: AUTH 0x19 with the same method, then 0x18 as
//   above, answered by AUTH 0x00; the user must stay the same. Failure: DISCONNECT
//   0x87. Other packets keep flowing meanwhile.
// - AUTH when CONNECT named no method, or naming another method, or a 0x18 with no
//   exchange in progress, or a 0x00 from the client: protocol error (0x82).
#include "connection.h"

namespace evmesh::mqtt {

namespace {
control::ScramServer::Lookup lookup_in(const control::AccessControl& access) {
  return [auth = access.authenticator()](std::string_view user) { return auth->scram_credentials(user); };
}
}  // namespace

void Connection::send_auth(std::uint8_t code, std::string data) {
  Auth a{code, {}};
  a.props.auth_method = auth_method_;
  a.props.auth_data = std::move(data);
  send(a);
}

void Connection::start_auth(Connect&& c) {
  const auto& method = *c.props.auth_method;
  if (method != control::kScramSha256 || !ctx_->access)
    return refuse_connack(reason::bad_auth_method, 0,
                          "authentication method '" + method + "' is not supported (only SCRAM-SHA-256)");
  auth_method_ = method;
  scram_ = std::make_unique<control::ScramServer>();
  auto first = scram_->first(c.props.auth_data.value_or(""), lookup_in(*ctx_->access));
  if (!first) {
    ctx_->access->refuse_login(scram_->user(), "mqtt", first.error());
    return refuse_connack(reason::not_authorized, 0, "SCRAM-SHA-256: " + first.error());
  }
  pending_connect_ = std::make_unique<Connect>(std::move(c));
  send_auth(reason::continue_authentication, std::move(*first));
}

void Connection::on_auth(const Auth& a) {
  const auto& method = *a.props.auth_method;  // decode_packet: always present
  const std::string data = a.props.auth_data.value_or("");
  if (auth_method_.empty())
    return fail(reason::protocol_error, "AUTH (method '" + method + "') but CONNECT used no authentication method");
  if (method != auth_method_) {
    std::string why = "AUTH method '" + method + "' is not CONNECT's '" + auth_method_ + "'";
    if (pending_connect_) return refuse_connack(reason::protocol_error, 0, std::move(why));
    return fail(reason::protocol_error, std::move(why));
  }
  if (pending_connect_) {
    if (a.reason != reason::continue_authentication)
      return refuse_connack(reason::protocol_error, 0, "AUTH during CONNECT's exchange must carry reason 0x18");
    auto last = scram_->final(data);
    if (!last) {
      ctx_->access->refuse_login(scram_->user(), "mqtt", last.error());
      return refuse_connack(reason::not_authorized, 0, "SCRAM-SHA-256: " + last.error());
    }
    principal_ = control::Principal{scram_->user(), "scram"};
    scram_.reset();
    auto c = std::move(*pending_connect_);
    pending_connect_.reset();
    return accept_connect(std::move(c), std::move(*last));
  }
  // Re-authentication (4.12.1).
  if (a.reason == reason::reauthenticate) {
    if (scram_) return fail(reason::protocol_error, "AUTH 0x19 while a re-authentication is in progress");
    scram_ = std::make_unique<control::ScramServer>();
    auto first = scram_->first(data, lookup_in(*ctx_->access));
    if (!first) {
      ctx_->access->refuse_login(scram_->user(), "mqtt", first.error());
      return fail(reason::not_authorized, "re-authentication: SCRAM-SHA-256: " + first.error());
    }
    return send_auth(reason::continue_authentication, std::move(*first));
  }
  if (a.reason != reason::continue_authentication || !scram_)
    return fail(reason::protocol_error, a.reason == reason::success
                                            ? "a client does not send AUTH 0x00"
                                            : "AUTH 0x18 without an authentication exchange in progress");
  auto last = scram_->final(data);
  const auto user = scram_->user();
  scram_.reset();
  if (!last) {
    ctx_->access->refuse_login(user, "mqtt", last.error());
    return fail(reason::not_authorized, "re-authentication: SCRAM-SHA-256: " + last.error());
  }
  if (user != principal_.name)
    return fail(reason::not_authorized,
                "re-authentication as '" + user + "', but the connection is '" + principal_.name + "'");
  send_auth(reason::success, std::move(*last));
}

}  // namespace evmesh::mqtt
