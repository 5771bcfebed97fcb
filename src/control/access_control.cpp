#include "evmesh/control/access_control.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace evmesh::control {
namespace {

constexpr std::size_t kMaxDenialKeys = 1024;  // distinct (principal, action, type) kept

std::shared_ptr<spdlog::logger> auth_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("auth")) return existing;
  auto logger = spdlog::default_logger()->clone("auth");
  spdlog::register_logger(logger);
  return logger;
}

// Names from the network are quoted and cut short in log lines and messages.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 128;
  std::string out;
  for (unsigned char c : s.substr(0, kMax)) out += (c < 0x20 || c == 0x7f) ? '?' : char(c);
  if (s.size() > kMax) out += "...";
  return out;
}

}  // namespace

Result<std::shared_ptr<AccessControl>> AccessControl::make(const AuthConfig& auth,
                                                           const std::vector<AclEntryConfig>& acl) {
  std::shared_ptr<AccessControl> ac(new AccessControl());
  if (auto ok = ac->update(auth, acl); !ok) return std::unexpected(ok.error());
  return ac;
}

Result<void> AccessControl::update(const AuthConfig& auth, const std::vector<AclEntryConfig>& acl) {
  auto compiled = Acl::compile(acl);
  if (!compiled) return std::unexpected(compiled.error());
  auto authenticator = Authenticator::make(auth, (*compiled)->enabled());
  if (!authenticator) return std::unexpected(authenticator.error());
  rules_.store(std::make_shared<const Rules>(Rules{std::move(*authenticator), std::move(*compiled)}),
               std::memory_order_release);
  return {};
}

void AccessControl::count(std::string_view principal, std::string_view action,
                          std::string_view type) const {
  std::lock_guard lock(denials_mutex_);
  ++totals_[std::string(action)];
  auto key = std::make_tuple(std::string(principal), std::string(action), std::string(type));
  if (auto it = by_.find(key); it != by_.end()) ++it->second;
  else if (by_.size() < kMaxDenialKeys) by_.emplace(std::move(key), 1);
  else ++other_;
}

Result<Principal> AccessControl::authenticate(const Credentials& c, std::string_view protocol) const {
  auto who = rules()->auth->authenticate(c);
  if (!who) {
    count("", "unauthenticated", "");
    auth_logger()->warn("denied: {} request unauthenticated: {}", protocol, who.error().message);
  }
  return who;
}

Result<Principal> AccessControl::authenticate_password(std::string_view user, std::string_view password,
                                                       std::string_view protocol) const {
  auto who = rules()->auth->authenticate_password(user, password);
  if (!who) {
    count(shown(user), "unauthenticated", "");
    auth_logger()->warn("denied: {} login of user '{}' unauthenticated: {}", protocol, shown(user),
                        who.error().message);
  }
  return who;
}

void AccessControl::refuse_login(std::string_view user, std::string_view protocol, std::string_view why) const {
  count(shown(user), "unauthenticated", "");
  auth_logger()->warn("denied: {} login of user '{}' unauthenticated: {}", protocol, shown(user), why);
}

Result<void> AccessControl::authorize(const Principal& who, AclAction action,
                                      std::string_view type) const {
  if (rules()->acl->allows(who.name, action, type)) return {};
  count(who.name, to_string(action), type);
  auth_logger()->warn("denied: principal '{}' {} type '{}'", shown(who.name), to_string(action),
                      shown(type));
  return fail(Errc::permission_denied,
              fmt::format("principal '{}' may not {} events of type '{}'", shown(who.name),
                          to_string(action), shown(type)),
              "type");
}

Result<void> AccessControl::authorize_publish(const Principal& who,
                                              std::span<const EventPtr> events) const {
  const auto r = rules();
  if (!r->acl->enabled()) return {};
  for (const auto& ev : events)
    if (auto ok = authorize(who, AclAction::publish, ev->type()); !ok) return ok;
  return {};
}

Result<void> AccessControl::authorize_subscription(const Principal& who,
                                                   const Subscription& sub) const {
  auto denied_type = rules()->acl->always_denied(who.name, sub);
  if (!denied_type) return {};
  count(who.name, "subscribe", *denied_type);
  auth_logger()->warn("denied: principal '{}' subscribe type '{}' (subscription refused)",
                      shown(who.name), shown(*denied_type));
  return fail(Errc::permission_denied,
              fmt::format("principal '{}' may not subscribe to any type this subscription can "
                          "match (e.g. '{}')",
                          shown(who.name), shown(*denied_type)),
              "filters");
}

Result<void> AccessControl::authorize_admin(const Principal& who, std::span<const std::string> admins,
                                           std::string_view what) const {
  const bool any = !who.anonymous() && std::ranges::find(admins, "*") != admins.end();
  if (any || std::ranges::find(admins, who.name) != admins.end()) return {};
  count(who.name, "admin", what);
  auth_logger()->warn("denied: principal '{}' admin '{}' (not in admin.principals)", shown(who.name), shown(what));
  return fail(Errc::permission_denied,
              fmt::format("principal '{}' may not use the admin API (see admin.principals)", shown(who.name)));
}

Result<void> AccessControl::authorize_owner(const Principal& who, const Subscription& existing) const {
  if (!rules()->acl->enabled() || existing.owner == who.name) return {};
  count(who.name, "manage", existing.id);
  auth_logger()->warn("denied: principal '{}' manage subscription '{}' (owner '{}')", shown(who.name),
                      shown(existing.id), shown(existing.owner));
  return fail(Errc::permission_denied,
              fmt::format("subscription '{}' belongs to {}; principal '{}' may not change or delete it",
                          shown(existing.id),
                          existing.owner.empty() ? "the operator (config file)"
                                                 : "'" + shown(existing.owner) + "'",
                          shown(who.name)));
}

bool AccessControl::may_receive(std::string_view owner, const Event& ev) const {
  if (rules()->acl->allows(owner, AclAction::subscribe, ev.type())) return true;
  count(owner, "receive", ev.type());
  auth_logger()->info("denied: principal '{}' receive type '{}' (event {} withheld from its "
                      "subscription)",
                      shown(owner), shown(ev.type()), shown(ev.id()));
  return false;
}

bool AccessControl::may_receive_type(std::string_view owner, std::string_view type) const {
  if (rules()->acl->allows(owner, AclAction::subscribe, type)) return true;
  count(owner, "receive", type);
  auth_logger()->info("denied: principal '{}' receive type '{}' (message withheld from an MQTT subscriber)",
                      shown(owner), shown(type));
  return false;
}

bool AccessControl::check(std::string_view principal, AclAction action, std::string_view type) const {
  return rules()->acl->allows(principal, action, type);
}

bool AccessControl::acl_enabled() const { return rules()->acl->enabled(); }
std::shared_ptr<const Authenticator> AccessControl::authenticator() const { return rules()->auth; }
std::shared_ptr<const Acl> AccessControl::acl() const { return rules()->acl; }

nlohmann::json AccessControl::denials() const {
  std::lock_guard lock(denials_mutex_);
  nlohmann::json out = {{"total", 0}};
  std::uint64_t total = 0;
  for (auto name : {"unauthenticated", "publish", "subscribe", "receive", "manage", "admin"}) {
    auto it = totals_.find(name);
    const auto n = it == totals_.end() ? 0 : it->second;
    out[name] = n;
    total += n;
  }
  out["total"] = total;
  auto by = nlohmann::json::array();
  for (const auto& [key, n] : by_)
    by.push_back({{"principal", std::get<0>(key)}, {"action", std::get<1>(key)},
                  {"type", std::get<2>(key)}, {"count", n}});
  out["by"] = std::move(by);
  out["other"] = other_;
  return out;
}

}  // namespace evmesh::control
