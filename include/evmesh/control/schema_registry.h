// Schema registry: JSON Schemas (draft 7 or draft 4, validated with valijson) per
// event type, with versions (docs/schemas.md).
//
// An event is checked against the version its `dataschema` names (the version's
// `uri`), else against the latest version registered for its type; an event whose
// type has no schema passes. A new version must keep the compatibility rule of its
// type (backward, forward, full or none; see schema_compat.h) with the latest one.
//
// A registry is a value: add() changes this copy only. The pipeline holds an
// immutable one and swaps in a new copy on registration or reload, so validation
// never takes a lock. Compiled schemas are shared between copies.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evmesh/core/error.h"
#include "evmesh/core/event.h"

namespace evmesh::control {

enum class Compatibility { none, backward, forward, full };
std::string_view to_string(Compatibility);
std::optional<Compatibility> parse_compatibility(std::string_view);

// What ingress does with an event its schema rejects.
enum class OnInvalid { reject, dead_letter };

struct CompiledSchema;  // valijson's, opaque here

struct SchemaVersion {
  std::string type;                   // the event type it describes
  int version = 0;                    // 1, 2, ...: strictly increasing per type
  std::string uri;                    // what `dataschema` names it by; default
                                      // "evmesh:schema:<type>:<version>"
  Compatibility compatibility = Compatibility::backward;  // for the next version
  OnInvalid on_invalid = OnInvalid::reject;
  std::string dead_letter;            // subscription id when on_invalid is dead_letter
  nlohmann::json schema;              // the JSON Schema document
  std::string origin;                 // file it came from, or "admin API"
  std::shared_ptr<const CompiledSchema> compiled;
};

// A registration document (a file of the schema directory or an admin API body):
//   {"type": "...", "version": 1, "schema": {...}, "uri"?: "...",
//    "compatibility"?: "backward", "on_invalid"?: "reject"|"dead-letter",
//    "dead_letter"?: "<subscription id>", "draft"?: 7|4}
// Errors: Errc::invalid_format, pointer names the member ("schema.properties.x").
Result<SchemaVersion> parse_schema_version(const nlohmann::json& doc, std::string origin);

// Validates `data` against a compiled version; returns every violation
// ("/total: Value type not permitted by 'type' constraint."), empty when valid.
std::vector<std::string> validate(const SchemaVersion& version, const nlohmann::json& data);

class SchemaRegistry {
 public:
  // Adds a version. Errors: conflict (version not above the latest, uri taken) or
  // rejected (incompatible with the latest under its rule; details list why).
  Result<void> add(SchemaVersion version);

  // The version an event is checked against, or null.
  const SchemaVersion* for_event(const Event& ev) const;
  const SchemaVersion* find(const std::string& type, int version) const;  // 0 = latest
  std::vector<std::string> types() const;
  const std::vector<SchemaVersion>* versions(const std::string& type) const;
  bool empty() const { return by_type_.empty(); }

  // Every *.json, *.yaml, *.yml file of `dir` (sorted by name; one registration
  // document each, or a list of them). Errors name the file and what is wrong.
  static Result<SchemaRegistry> load_directory(const std::filesystem::path& dir);

 private:
  std::map<std::string, std::vector<SchemaVersion>, std::less<>> by_type_;
  std::map<std::string, std::pair<std::string, int>, std::less<>> by_uri_;
};

// Registration document as JSON (for the admin API).
nlohmann::json to_json(const SchemaVersion& version);

}  // namespace evmesh::control
