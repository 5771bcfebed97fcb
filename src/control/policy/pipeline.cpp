// The ingress pipeline (order and semantics in pipeline.h, docs/policies.md).
#include "evmesh/control/pipeline.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "evmesh/filter/match_context.h"
#include "field_paths.h"

namespace evmesh::control {
namespace {

using nlohmann::json;

// RFC 3339 UTC, second precision: the CloudEvents expirytime extension.
std::string rfc3339_after_days(int days) {
  const auto at = std::chrono::system_clock::now() + std::chrono::hours(24) * days;
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One event on its way through the rules: attributes in `event`, JSON data (when
// it is JSON) in `doc`, written back into the event once at the end.
struct Work {
  EventPtr event;
  std::optional<json> doc;
  bool doc_changed = false;
  std::vector<std::string> routes;

  const json* data() const { return doc ? &*doc : nullptr; }
};

std::unexpected<Error> rule_failed(const Policy& p, const Rule& r, const std::string& why) {
  return fail(Errc::rejected,
              fmt::format("policy '{}' rule '{}' ({}) cannot apply: {}", p.name, r.name,
                          to_string(r.action), why));
}

// Applies one attribute change; the builder validates the result.
Result<void> rebuild(Work& w, const Policy& p, const Rule& r,
                     const std::function<void(EventBuilder&)>& change) {
  EventBuilder b(*w.event);
  change(b);
  auto built = std::move(b).build();
  if (!built) return rule_failed(p, r, built.error().message);
  w.event = std::move(*built);
  return {};
}

Result<void> apply(const Policy& p, const Rule& r, const std::optional<KeyRing>& keys, Work& w) {
  switch (r.action) {
    case ActionKind::encrypt_fields:
    case ActionKind::redact_fields:
      if (!w.doc) return {};  // no JSON data: no fields to change
      for (const auto& path : r.fields) {
        auto* field = detail::field_at(*w.doc, path);
        if (!field) continue;
        if (r.action == ActionKind::redact_fields) {
          *field = r.replacement;
        } else if (!is_envelope(*field)) {
          auto env = encrypt_value(*keys, *field);
          if (!env) return rule_failed(p, r, env.error().message);
          *field = std::move(*env);
        }
        w.doc_changed = true;
      }
      return {};
    case ActionKind::set_ttl:
      return rebuild(w, p, r, [&](EventBuilder& b) {
        b.set("expirytime", rfc3339_after_days(r.ttl_days));
      });
    case ActionKind::set_extension:
      return rebuild(w, p, r, [&](EventBuilder& b) { b.set(r.name_arg, r.value); });
    case ActionKind::remove_extension:
      if (!w.event->attribute(r.name_arg)) return {};
      return rebuild(w, p, r, [&](EventBuilder& b) { b.remove(r.name_arg); });
    case ActionKind::rename_type:
      return rebuild(w, p, r, [&](EventBuilder& b) { b.set("type", r.to); });
    case ActionKind::rename_source:
      return rebuild(w, p, r, [&](EventBuilder& b) { b.set("source", r.to); });
    case ActionKind::route:
      if (std::ranges::find(w.routes, r.to) == w.routes.end()) w.routes.push_back(r.to);
      return {};
    case ActionKind::drop: return {};
  }
  return {};
}

bool condition_holds(const Rule& r, const Work& w) {
  return !r.expr || cesql::matches(*r.expr, *w.event, w.data());
}

// The event's data for a schema: its JSON, `null` when it has none.
Result<json> schema_input(const Event& ev, filter::MatchContext& ctx) {
  if (!ev.has_data()) return json(nullptr);
  if (const auto* doc = ctx.json()) return *doc;
  return fail(Errc::rejected, "the data is not JSON (datacontenttype " +
                                  ev.datacontenttype().value_or("absent") + "), its schema needs JSON");
}

}  // namespace

Pipeline::Pipeline(std::vector<Policy> policies, SchemaRegistry schemas, std::optional<KeyRing> keys)
    : policies_(std::move(policies)), schemas_(std::move(schemas)), keys_(std::move(keys)) {}

Result<void> Pipeline::check() const {
  for (const auto& p : policies_)
    for (const auto& r : p.rules)
      if (r.action == ActionKind::encrypt_fields && !keys_)
        return fail(Errc::invalid_format,
                    fmt::format("policy '{}' rule '{}' encrypts fields but no key file is "
                                "configured (encryption.key_file)", p.name, r.name));
  return {};
}

Result<std::optional<AdmittedEvent>> Pipeline::admit(const EventPtr& ev) const {
  Work w{ev};
  filter::MatchContext ctx(*ev);
  if (const auto* schema = schemas_.for_event(*ev)) {
    auto input = schema_input(*ev, ctx);
    std::vector<std::string> violations;
    if (!input) violations.push_back(input.error().message);
    else violations = validate(*schema, *input);
    if (!violations.empty()) {
      if (schema->on_invalid == OnInvalid::dead_letter)
        return AdmittedEvent{ev, {schema->dead_letter}, true};
      return std::unexpected(Error{
          Errc::rejected,
          fmt::format("the data does not match schema {} version {} ({}): {} violation(s)",
                      schema->type, schema->version, schema->uri, violations.size()),
          "data", std::move(violations)});
    }
  }
  if (policies_.empty()) return AdmittedEvent{ev};
  if (const auto* doc = ctx.json()) w.doc = *doc;
  for (const auto& p : policies_) {
    for (const auto& r : p.rules) {
      if (!condition_holds(r, w)) continue;
      if (r.action == ActionKind::drop) return std::nullopt;
      if (auto ok = apply(p, r, keys_, w); !ok) return std::unexpected(ok.error());
    }
  }
  if (w.doc_changed) {
    EventBuilder b(*w.event);
    b.data(w.doc->dump(-1, ' ', false, json::error_handler_t::replace));
    auto built = std::move(b).build();
    if (!built) return std::unexpected(built.error());
    w.event = std::move(*built);
  }
  return AdmittedEvent{std::move(w.event), std::move(w.routes)};
}

Result<std::shared_ptr<const Pipeline>> Pipeline::with_schema(SchemaVersion version) const {
  auto next = std::make_shared<Pipeline>(*this);
  if (auto ok = next->schemas_.add(std::move(version)); !ok) return std::unexpected(ok.error());
  return next;
}

void PipelineStage::install(std::shared_ptr<const Pipeline> pipeline) {
  const bool active = !pipeline->empty();
  current_.store(std::move(pipeline));
  active_.store(active, std::memory_order_relaxed);
}

Result<void> PipelineStage::admit(std::span<const EventPtr> events,
                                  std::vector<AdmittedEvent>& out) const {
  const auto pipeline = current_.load();
  out.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto admitted = pipeline->admit(events[i]);
    if (!admitted) {
      auto err = admitted.error();
      if (events.size() > 1)  // a batch: name the event
        err.pointer = fmt::format("/{}{}", i, err.pointer.empty() ? "" : "/" + err.pointer);
      return std::unexpected(std::move(err));
    }
    if (*admitted) out.push_back(std::move(**admitted));
  }
  return {};
}

}  // namespace evmesh::control
