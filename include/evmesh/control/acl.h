// Access control lists: may principal P publish / subscribe to events of type T?
//
//   acl:
//     - name: production-access
//       principal: service:payment-service      # exact, or a glob: "service:*"
//       allow:
//         - publish: "com.company.payment.*"
//         - subscribe: "com.company.order.created"
//       deny:
//         - subscribe: "com.company.*.internal"
//
// Type patterns (and principal patterns) are the filter globs: `*` is any run of
// characters without '.', `**` any run including dots; no wildcard = exact. Every
// entry whose principal matches contributes its rules. A deny that matches wins over
// any allow; no matching allow is a deny, so a principal no entry names is denied
// everything. With no ACL entry at all the ACL is off: everything is allowed.
//
// An Acl is compiled once (reload builds a new one) and immutable; allows() is
// lock-free, from any thread: a hash lookup of the principal, then a few glob matches.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evmesh/core/error.h"
#include "evmesh/runtime/subscription.h"

namespace evmesh::control {

enum class AclAction { publish, subscribe };
std::string_view to_string(AclAction);

struct AclRuleConfig {
  AclAction action;
  std::string pattern;
};

struct AclEntryConfig {
  std::string name;
  std::string principal;
  std::vector<AclRuleConfig> allow, deny;
};

class Acl {
 public:
  // Errors: invalid_format, pointer "acl[2].allow[0].publish" (bad pattern),
  // "acl[1].name" (duplicate name).
  static Result<std::shared_ptr<const Acl>> compile(const std::vector<AclEntryConfig>& entries);
  ~Acl();

  bool enabled() const { return enabled_; }
  bool allows(std::string_view principal, AclAction action, std::string_view type) const;

  // For a new subscription: when its filters pin the event type to a known set of
  // values (Subscriptions API `types`, or exact type filters combined by `all` /
  // `any`), and `principal` may subscribe to none of them, the first denied type;
  // otherwise nullopt (delivery-time checks still apply).
  std::optional<std::string> always_denied(std::string_view principal,
                                           const Subscription& sub) const;

  const std::vector<AclEntryConfig>& entries() const { return config_; }

 private:
  struct Compiled;
  Acl() = default;
  bool enabled_ = false;
  std::vector<AclEntryConfig> config_;
  std::unique_ptr<const Compiled> compiled_;
};

}  // namespace evmesh::control
