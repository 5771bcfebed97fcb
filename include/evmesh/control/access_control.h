// AccessControl: what the adapters call to authenticate a caller and to authorise
// publish / subscribe, and what the runtime asks at routing (DeliveryGuard). Holds
// the current Authenticator and Acl as one immutable snapshot swapped whole by
// update() (config reload), so a request sees either the old or the new rules.
//
// Every refusal is counted and logged (logger "auth") with principal, action and
// type: unauthenticated requests, denied publishes, denied subscription creations
// and events withheld from a subscription at routing. denials() reports the totals
// and the counts per (principal, action, type) for the admin API.
//
// Thread-safe; the hot path (authorize, may_receive) takes no lock unless it denies.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/control/acl.h"
#include "evmesh/control/auth.h"
#include "evmesh/core/event.h"
#include "evmesh/runtime/delivery_guard.h"

namespace evmesh::control {

struct Config;

class AccessControl final : public DeliveryGuard {
 public:
  // Errors name the config key (as Authenticator::make, Acl::compile).
  static Result<std::shared_ptr<AccessControl>> make(const AuthConfig& auth,
                                                     const std::vector<AclEntryConfig>& acl);
  // Swaps in new rules (reload); on error the old ones stay.
  Result<void> update(const AuthConfig& auth, const std::vector<AclEntryConfig>& acl);

  // `protocol` ("http", "grpc", "mqtt") only labels the log line.
  Result<Principal> authenticate(const Credentials& credentials, std::string_view protocol) const;
  Result<Principal> authenticate_password(std::string_view user, std::string_view password,
                                          std::string_view protocol) const;
  // An enhanced-authentication exchange (scram.h) the adapter ran and refused:
  // counted and logged like a refused password.
  void refuse_login(std::string_view user, std::string_view protocol, std::string_view why) const;
  // permission_denied naming principal, action and type.
  Result<void> authorize(const Principal& who, AclAction action, std::string_view type) const;
  // Every event of a publish; the first denied type refuses the whole request.
  Result<void> authorize_publish(const Principal& who, std::span<const EventPtr> events) const;
  // A new subscription owned by `who`: refused when it can only match denied types.
  Result<void> authorize_subscription(const Principal& who, const Subscription& sub) const;
  // Changing or deleting an existing subscription: while an ACL is enabled only its
  // owner may (YAML subscriptions belong to the operator: nobody over the API).
  Result<void> authorize_owner(const Principal& who, const Subscription& existing) const;
  // The admin API (docs/security.md): `who` must be one of `admins` ("*": any
  // authenticated principal). A refusal is counted and logged as action "admin" with
  // `what` (the path) as its type.
  Result<void> authorize_admin(const Principal& who, std::span<const std::string> admins,
                               std::string_view what) const;
  // DeliveryGuard: counted and logged as action "receive".
  bool may_receive(std::string_view owner, const Event& ev) const override;
  // The same check when only the type is at hand (MQTT listener fan-out).
  bool may_receive_type(std::string_view owner, std::string_view type) const;

  // A dry run for the admin API: no counting, no logging.
  bool check(std::string_view principal, AclAction action, std::string_view type) const;
  bool acl_enabled() const;
  std::shared_ptr<const Authenticator> authenticator() const;
  std::shared_ptr<const Acl> acl() const;

  // {"total": n, "unauthenticated": n, "publish": n, "subscribe": n, "receive": n,
  //  "manage": n, "admin": n, "by": [{"principal", "action", "type", "count"}, ...]}
  nlohmann::json denials() const;

 private:
  struct Rules {
    std::shared_ptr<const Authenticator> auth;
    std::shared_ptr<const Acl> acl;
  };
  AccessControl() = default;
  std::shared_ptr<const Rules> rules() const { return rules_.load(std::memory_order_acquire); }
  void count(std::string_view principal, std::string_view action, std::string_view type) const;

  std::atomic<std::shared_ptr<const Rules>> rules_;
  mutable std::mutex denials_mutex_;
  // (principal, action, type) -> count; bounded, the rest go to `other`.
  mutable std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> by_;
  mutable std::map<std::string, std::uint64_t, std::less<>> totals_;
  mutable std::uint64_t other_ = 0;
};

}  // namespace evmesh::control
