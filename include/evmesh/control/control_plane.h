// ControlPlane: builds the ingress pipeline from a Config and installs it, keeps the
// schemas registered over the admin API, and remembers the last reload's outcome.
// The admin API and the reloader talk to it; publishes only see PipelineStage.
//
// Thread-safety: every method may be called from any thread; writers serialise on
// a mutex, publishes never take it.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evmesh/control/config.h"
#include "evmesh/control/pipeline.h"

namespace evmesh::control {

struct ReloadStatus {
  std::uint64_t generation = 0;  // successful loads so far (start-up is 1)
  bool ok = true;                // the last attempt succeeded
  std::string error;             // the last failure: "file:line: key: reason"
  std::string file;
  int line = 0;
  std::string trigger;           // "start", "SIGHUP", "file change: <path>", "admin"
  std::string at;                // RFC 3339 time of the last attempt
  std::vector<std::string> changes;  // of the last successful one: "subscription x added", ...
};

class ControlPlane {
 public:
  ControlPlane();

  // The pipeline for `config` (key file, schema directory, policies) plus the
  // schemas registered over the API. Errors name the file and what is wrong.
  Result<std::shared_ptr<const Pipeline>> build(const Config& config) const;
  // build() then install (atomic swap: publishes see old or new, whole), serialised
  // with register_schema so neither loses the other's change.
  Result<void> apply(const Config& config);

  // Registers a schema version (parse_schema_version's document); it survives
  // reloads (re-registered after the directory's). Errors as SchemaRegistry::add.
  Result<nlohmann::json> register_schema(const nlohmann::json& doc);

  std::shared_ptr<PipelineStage> stage() const { return stage_; }
  nlohmann::json schemas_json() const;                                // every type, every version
  Result<nlohmann::json> schema_json(const std::string& type, int version) const;  // 0 = latest
  nlohmann::json policies_json() const;

  void record(ReloadStatus status);
  ReloadStatus status() const;
  nlohmann::json status_json() const;

 private:
  std::shared_ptr<PipelineStage> stage_;
  std::mutex write_mutex_;                // apply, register_schema
  mutable std::mutex mutex_;             // registered_, status_
  std::vector<nlohmann::json> registered_;  // API documents, in order
  ReloadStatus status_;
};

// RFC 3339 UTC time of now, second precision.
std::string now_rfc3339();

}  // namespace evmesh::control
