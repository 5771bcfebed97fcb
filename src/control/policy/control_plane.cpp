#include "evmesh/control/control_plane.h"

#include <ctime>

namespace evmesh::control {

using nlohmann::json;

std::string now_rfc3339() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ControlPlane::ControlPlane() : stage_(std::make_shared<PipelineStage>()) {}

Result<std::shared_ptr<const Pipeline>> ControlPlane::build(const Config& config) const {
  std::optional<KeyRing> keys;
  if (!config.encryption.key_file.empty()) {
    auto ring = KeyRing::load(config.encryption.key_file);
    if (!ring) return std::unexpected(ring.error());
    keys = std::move(*ring);
  }
  SchemaRegistry schemas;
  if (!config.schemas.directory.empty()) {
    auto loaded = SchemaRegistry::load_directory(config.schemas.directory);
    if (!loaded) return std::unexpected(loaded.error());
    schemas = std::move(*loaded);
  }
  std::vector<json> registered;
  {
    std::lock_guard lock(mutex_);
    registered = registered_;
  }
  for (const auto& doc : registered) {
    auto v = parse_schema_version(doc, "admin API");
    if (!v) return std::unexpected(v.error());
    if (auto ok = schemas.add(std::move(*v)); !ok) {
      auto err = ok.error();
      err.message = "a schema registered over the admin API no longer fits: " + err.message;
      return std::unexpected(std::move(err));
    }
  }
  auto pipeline = std::make_shared<const Pipeline>(config.policies, std::move(schemas), std::move(keys));
  if (auto ok = pipeline->check(); !ok) return std::unexpected(ok.error());
  return pipeline;
}

Result<void> ControlPlane::apply(const Config& config) {
  std::lock_guard write(write_mutex_);
  auto pipeline = build(config);
  if (!pipeline) return std::unexpected(pipeline.error());
  stage_->install(std::move(*pipeline));
  return {};
}

Result<json> ControlPlane::register_schema(const json& doc) {
  std::lock_guard write(write_mutex_);
  auto v = parse_schema_version(doc, "admin API");
  if (!v) return std::unexpected(v.error());
  const auto type = v->type;
  const auto version = v->version;
  auto next = stage_->current()->with_schema(std::move(*v));
  if (!next) return std::unexpected(next.error());
  stage_->install(*next);
  std::lock_guard lock(mutex_);
  registered_.push_back(doc);
  return to_json(*(*next)->schemas().find(type, version));
}

json ControlPlane::schemas_json() const {
  const auto pipeline = stage_->current();
  auto out = json::array();
  for (const auto& type : pipeline->schemas().types()) {
    auto versions = json::array();
    for (const auto& v : *pipeline->schemas().versions(type))
      versions.push_back({{"version", v.version}, {"uri", v.uri}, {"origin", v.origin}});
    out.push_back({{"type", type}, {"versions", std::move(versions)}});
  }
  return out;
}

Result<json> ControlPlane::schema_json(const std::string& type, int version) const {
  const auto pipeline = stage_->current();
  const auto* v = pipeline->schemas().find(type, version);
  if (!v)
    return fail(Errc::not_found, version ? "no version " + std::to_string(version) + " of schema '" + type + "'"
                                         : "no schema for type '" + type + "'");
  return to_json(*v);
}

json ControlPlane::policies_json() const { return to_json(stage_->current()->policies()); }

void ControlPlane::record(ReloadStatus status) {
  std::lock_guard lock(mutex_);
  if (status.ok) status.generation = status_.generation + 1;
  else {
    status.generation = status_.generation;
    if (status.changes.empty()) status.changes = status_.changes;
  }
  status_ = std::move(status);
}

ReloadStatus ControlPlane::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

json ControlPlane::status_json() const {
  const auto s = status();
  json out = {{"generation", s.generation}, {"ok", s.ok}, {"trigger", s.trigger}, {"at", s.at},
              {"changes", s.changes}};
  if (!s.ok) {
    out["error"] = s.error;
    if (!s.file.empty()) out["file"] = s.file;
    if (s.line) out["line"] = s.line;
  }
  return out;
}

}  // namespace evmesh::control
