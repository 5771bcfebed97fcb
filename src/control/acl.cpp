// Compiled ACLs (see acl.h).
#include "evmesh/control/acl.h"

#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "filter/glob.h"

namespace evmesh::control {
namespace {

using filter::detail::Glob;

struct Rule {
  AclAction action;
  Glob type;
};

struct RuleSet {
  std::vector<Rule> allow, deny;
};

bool any_match(const std::vector<Rule>& rules, AclAction action, std::string_view type) {
  for (const auto& r : rules)
    if (r.action == action && r.type.matches(type)) return true;
  return false;
}

// The event types a filter can match, when it pins the `type` attribute to a known
// set; nullopt when it does not (or we cannot tell cheaply).
std::optional<std::set<std::string>> pinned_types(const filter::Filter& f) {
  using filter::Dialect;
  switch (f.dialect) {
    case Dialect::exact:
      if (f.attribute == "type") return std::set<std::string>{f.value};
      return std::nullopt;
    case Dialect::all:
      for (const auto& c : f.children)
        if (auto s = pinned_types(*c)) return s;  // the conjunction matches a subset of it
      return std::nullopt;
    case Dialect::any: {
      std::set<std::string> out;
      for (const auto& c : f.children) {
        auto s = pinned_types(*c);
        if (!s) return std::nullopt;
        out.merge(*s);
      }
      return out;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string_view to_string(AclAction a) { return a == AclAction::publish ? "publish" : "subscribe"; }

struct Acl::Compiled {
  std::unordered_map<std::string, RuleSet> exact;  // principal -> merged rules
  struct GlobEntry {
    Glob principal;
    RuleSet rules;
  };
  std::vector<GlobEntry> globs;  // principals with wildcards, in declaration order
};

Acl::~Acl() = default;

Result<std::shared_ptr<const Acl>> Acl::compile(const std::vector<AclEntryConfig>& entries) {
  auto compiled = std::make_unique<Compiled>();
  std::set<std::string> names;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const auto where = fmt::format("acl[{}]", i);
    if (!names.insert(e.name).second)
      return fail(Errc::invalid_format, fmt::format("duplicate ACL name '{}'", e.name), where + ".name");
    auto principal = Glob::compile(e.principal, Glob::Flavour::glob);
    if (!principal)
      return fail(Errc::invalid_format, "bad principal pattern: " + principal.error(),
                  where + ".principal");
    RuleSet rules;
    for (auto [list, out, label] : {std::tuple{&e.allow, &rules.allow, "allow"},
                                    std::tuple{&e.deny, &rules.deny, "deny"}}) {
      for (std::size_t j = 0; j < list->size(); ++j) {
        const auto& r = (*list)[j];
        auto type = Glob::compile(r.pattern, Glob::Flavour::glob);
        if (!type)
          return fail(Errc::invalid_format, "bad type pattern: " + type.error(),
                      fmt::format("{}.{}[{}].{}", where, label, j, to_string(r.action)));
        out->push_back({r.action, std::move(*type)});
      }
    }
    if (principal->is_literal()) {
      auto& merged = compiled->exact[e.principal];
      merged.allow.insert(merged.allow.end(), rules.allow.begin(), rules.allow.end());
      merged.deny.insert(merged.deny.end(), rules.deny.begin(), rules.deny.end());
    } else {
      compiled->globs.push_back({std::move(*principal), std::move(rules)});
    }
  }
  std::shared_ptr<Acl> acl(new Acl());
  acl->enabled_ = !entries.empty();
  acl->config_ = entries;
  acl->compiled_ = std::move(compiled);
  return std::shared_ptr<const Acl>(std::move(acl));
}

bool Acl::allows(std::string_view principal, AclAction action, std::string_view type) const {
  if (!enabled_) return true;
  bool allowed = false;
  auto judge = [&](const RuleSet& rules) {
    if (any_match(rules.deny, action, type)) return false;  // deny wins
    allowed = allowed || any_match(rules.allow, action, type);
    return true;
  };
  // Heterogeneous lookup would need a transparent hash; principals are short.
  if (auto it = compiled_->exact.find(std::string(principal)); it != compiled_->exact.end())
    if (!judge(it->second)) return false;
  for (const auto& g : compiled_->globs)
    if (g.principal.matches(principal) && !judge(g.rules)) return false;
  return allowed;
}

std::optional<std::string> Acl::always_denied(std::string_view principal,
                                              const Subscription& sub) const {
  if (!enabled_) return std::nullopt;
  for (const auto& f : sub.effective_filters()) {
    auto types = pinned_types(*f);
    if (!types || types->empty()) continue;
    for (const auto& t : *types)
      if (allows(principal, AclAction::subscribe, t)) return std::nullopt;
    return *types->begin();
  }
  return std::nullopt;
}

}  // namespace evmesh::control
