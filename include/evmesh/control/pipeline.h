// The ingress pipeline: schema check, then policies, applied to every published
// event whatever its protocol (Runtime::publish calls it through IngressStage).
//
// Order (docs/policies.md):
//   1. schema: the event's data (as published) against the version its dataschema
//      names, else the latest for its type. Invalid: rejected (Errc::rejected, the
//      violations in Error::details) or dead-lettered to the schema's subscription.
//   2. policies in file order, their rules in file order. A rule whose condition
//      holds on the event as transformed so far applies its action; `drop` ends
//      the evaluation (the event is acknowledged and routed nowhere).
//
// A Pipeline is immutable; PipelineStage holds the current one and swaps it whole
// (reload, schema registration) with an atomic store, so a publish sees either the
// old or the new pipeline, never a mix.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "evmesh/control/field_crypto.h"
#include "evmesh/control/policy.h"
#include "evmesh/control/schema_registry.h"
#include "evmesh/runtime/ingress_stage.h"

namespace evmesh::control {

class Pipeline {
 public:
  Pipeline() = default;
  Pipeline(std::vector<Policy> policies, SchemaRegistry schemas, std::optional<KeyRing> keys);

  // Every action needs its inputs: encrypt-fields needs keys. Errc::invalid_format
  // naming the rule when not.
  Result<void> check() const;
  bool empty() const { return policies_.empty() && schemas_.empty(); }

  // nullopt: dropped. Error: rejected (details = violations). Thread-safe.
  Result<std::optional<AdmittedEvent>> admit(const EventPtr& ev) const;

  const std::vector<Policy>& policies() const { return policies_; }
  const SchemaRegistry& schemas() const { return schemas_; }
  const std::optional<KeyRing>& keys() const { return keys_; }

  // A copy with one more schema version (admin API registration).
  Result<std::shared_ptr<const Pipeline>> with_schema(SchemaVersion version) const;

 private:
  std::vector<Policy> policies_;
  SchemaRegistry schemas_;
  std::optional<KeyRing> keys_;
};

class PipelineStage final : public IngressStage {
 public:
  PipelineStage() : current_(std::make_shared<const Pipeline>()) {}

  bool active() const noexcept override { return active_.load(std::memory_order_relaxed); }
  Result<void> admit(std::span<const EventPtr> events, std::vector<AdmittedEvent>& out) const override;

  std::shared_ptr<const Pipeline> current() const { return current_.load(); }
  void install(std::shared_ptr<const Pipeline> pipeline);

 private:
  std::atomic<std::shared_ptr<const Pipeline>> current_;
  std::atomic<bool> active_{false};
};

}  // namespace evmesh::control
