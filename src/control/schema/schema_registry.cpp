// Schema versions: parsing registration documents, compiling them with valijson,
// validating event data, and the per-type version lists.
#include "evmesh/control/schema_registry.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <yaml-cpp/yaml.h>

#include "../config_reader.h"
#include "evmesh/control/config.h"
#include "evmesh/control/schema_compat.h"
#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {

struct CompiledSchema {
  valijson::Schema schema;
};

namespace {

using nlohmann::json;

std::unexpected<Error> bad(std::string message, std::string pointer = {}) {
  return fail(Errc::invalid_format, std::move(message), std::move(pointer));
}

Result<std::shared_ptr<const CompiledSchema>> compile(const json& schema, int draft) {
  if (!schema.is_object() && !schema.is_boolean())
    return bad("schema: must be a JSON Schema (an object)", "schema");
  auto compiled = std::make_shared<CompiledSchema>();
  try {
    valijson::SchemaParser parser(draft == 4 ? valijson::SchemaParser::kDraft4
                                             : valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema);
    parser.populateSchema(adapter, compiled->schema);
  } catch (const std::exception& e) {
    return bad(std::string("schema: not a valid JSON Schema: ") + e.what(), "schema");
  }
  return compiled;
}

// valijson's context ["<root>", "[customer]", "[0]"] -> "/customer/0".
std::string pointer_of(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& c : context) {
    if (c == "<root>") continue;
    out += "/";
    out += c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c;
  }
  return out.empty() ? "/" : out;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string_view to_string(Compatibility c) {
  switch (c) {
    case Compatibility::none: return "none";
    case Compatibility::backward: return "backward";
    case Compatibility::forward: return "forward";
    case Compatibility::full: return "full";
  }
  return "none";
}

std::optional<Compatibility> parse_compatibility(std::string_view s) {
  for (auto c : {Compatibility::none, Compatibility::backward, Compatibility::forward, Compatibility::full})
    if (to_string(c) == s) return c;
  return std::nullopt;
}

Result<SchemaVersion> parse_schema_version(const json& doc, std::string origin) {
  if (!doc.is_object()) return bad("a schema registration must be an object with type, version and schema");
  static const std::vector<std::string> kKeys = {"type", "version", "schema", "uri", "compatibility",
                                                 "on_invalid", "dead_letter", "draft"};
  for (const auto& [k, _] : doc.items())
    if (std::ranges::find(kKeys, k) == kKeys.end())
      return bad(k + ": unknown key (schema keys: type, version, schema, uri, compatibility, "
                     "on_invalid, dead_letter, draft)", k);
  SchemaVersion v;
  v.origin = std::move(origin);
  auto it = doc.find("type");
  if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return bad("type: is required: the event type the schema describes (a non-empty string)", "type");
  v.type = it->get<std::string>();
  it = doc.find("version");
  if (it == doc.end() || !it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > 1'000'000)
    return bad("version: is required: a whole number from 1", "version");
  v.version = it->get<int>();
  if ((it = doc.find("uri")) != doc.end()) {
    if (!it->is_string() || !valid_uri_reference(it->get<std::string>()))
      return bad("uri: must be a URI-reference (what events name in dataschema)", "uri");
    v.uri = it->get<std::string>();
  } else {
    v.uri = "evmesh:schema:" + v.type + ":" + std::to_string(v.version);
  }
  if ((it = doc.find("compatibility")) != doc.end()) {
    auto c = it->is_string() ? parse_compatibility(it->get<std::string>()) : std::nullopt;
    if (!c) return bad("compatibility: must be one of none, backward, forward, full", "compatibility");
    v.compatibility = *c;
  }
  if ((it = doc.find("on_invalid")) != doc.end()) {
    if (*it == "reject") v.on_invalid = OnInvalid::reject;
    else if (*it == "dead-letter") v.on_invalid = OnInvalid::dead_letter;
    else return bad("on_invalid: must be reject or dead-letter", "on_invalid");
  }
  if ((it = doc.find("dead_letter")) != doc.end()) {
    if (!it->is_string() || !valid_subscription_id(it->get<std::string>()))
      return bad("dead_letter: must be a subscription id", "dead_letter");
    v.dead_letter = it->get<std::string>();
  }
  if (v.on_invalid == OnInvalid::dead_letter && v.dead_letter.empty())
    return bad("dead_letter: is required when on_invalid is dead-letter (the subscription that "
               "receives invalid events)", "dead_letter");
  int draft = 7;
  if ((it = doc.find("draft")) != doc.end()) {
    if (*it != 4 && *it != 7) return bad("draft: must be 7 or 4", "draft");
    draft = it->get<int>();
  }
  it = doc.find("schema");
  if (it == doc.end()) return bad("schema: is required: the JSON Schema document", "schema");
  v.schema = *it;
  auto compiled = compile(v.schema, draft);
  if (!compiled) return std::unexpected(compiled.error());
  v.compiled = std::move(*compiled);
  return v;
}

std::vector<std::string> validate(const SchemaVersion& version, const json& data) {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(data);
  std::vector<std::string> out;
  if (validator.validate(version.compiled->schema, target, &results)) return out;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) out.push_back(pointer_of(error.context) + ": " + error.description);
  return out;
}

Result<void> SchemaRegistry::add(SchemaVersion v) {
  auto known = by_type_.find(v.type);
  if (known != by_type_.end() && !known->second.empty()) {
    const auto& latest = known->second.back();
    if (v.version <= latest.version)
      return fail(Errc::conflict, "version " + std::to_string(v.version) + " of " + v.type +
                                      " must be above the latest, " + std::to_string(latest.version),
                  "version");
    auto reasons = compatibility_violations(latest.schema, v.schema, latest.compatibility);
    if (!reasons.empty()) {
      Error e{Errc::rejected,
              "version " + std::to_string(v.version) + " of " + v.type + " breaks the " +
                  std::string(to_string(latest.compatibility)) + " compatibility of version " +
                  std::to_string(latest.version),
              "schema", std::move(reasons)};
      return std::unexpected(std::move(e));
    }
  }
  if (auto taken = by_uri_.find(v.uri); taken != by_uri_.end())
    return fail(Errc::conflict, "uri '" + v.uri + "' already names " + taken->second.first +
                                    " version " + std::to_string(taken->second.second), "uri");
  by_uri_[v.uri] = {v.type, v.version};
  by_type_[v.type].push_back(std::move(v));
  return {};
}

const SchemaVersion* SchemaRegistry::for_event(const Event& ev) const {
  if (const auto& ds = ev.dataschema()) {
    if (auto it = by_uri_.find(*ds); it != by_uri_.end()) return find(it->second.first, it->second.second);
  }
  return find(ev.type(), 0);
}

const SchemaVersion* SchemaRegistry::find(const std::string& type, int version) const {
  auto it = by_type_.find(type);
  if (it == by_type_.end() || it->second.empty()) return nullptr;
  if (version == 0) return &it->second.back();
  for (const auto& v : it->second)
    if (v.version == version) return &v;
  return nullptr;
}

std::vector<std::string> SchemaRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [t, _] : by_type_) out.push_back(t);
  return out;
}

const std::vector<SchemaVersion>* SchemaRegistry::versions(const std::string& type) const {
  auto it = by_type_.find(type);
  return it == by_type_.end() ? nullptr : &it->second;
}

Result<SchemaRegistry> SchemaRegistry::load_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return bad(dir.string() + ": the schema directory does not exist or is not a directory");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".json" || ext == ".yaml" || ext == ".yml"))
      files.push_back(entry.path());
  }
  std::ranges::sort(files);
  // Versions of a type may sit in several files: register them in version order.
  std::vector<SchemaVersion> all;
  for (const auto& file : files) {
    json doc;
    try {
      detail::Reader reader(file.string());
      doc = reader.to_json(YAML::Load(read_text(file)), "");
    } catch (const YAML::ParserException& e) {
      return bad(file.string() + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
    } catch (const std::exception& e) {
      return bad(std::string(e.what()));
    }
    const auto docs = doc.is_array() ? doc : json::array({doc});
    for (std::size_t i = 0; i < docs.size(); ++i) {
      auto v = parse_schema_version(docs[i], file.string());
      if (!v) {
        auto err = v.error();
        err.message = file.string() + (doc.is_array() ? "[" + std::to_string(i) + "]" : "") + ": " + err.message;
        return std::unexpected(std::move(err));
      }
      all.push_back(std::move(*v));
    }
  }
  std::ranges::stable_sort(all, [](const auto& a, const auto& b) {
    return std::tie(a.type, a.version) < std::tie(b.type, b.version);
  });
  SchemaRegistry registry;
  for (auto& v : all) {
    const auto origin = v.origin;
    if (auto ok = registry.add(std::move(v)); !ok) {
      auto err = ok.error();
      err.message = origin + ": " + err.message;
      return std::unexpected(std::move(err));
    }
  }
  return registry;
}

json to_json(const SchemaVersion& v) {
  json out = {{"type", v.type},
              {"version", v.version},
              {"uri", v.uri},
              {"compatibility", to_string(v.compatibility)},
              {"on_invalid", v.on_invalid == OnInvalid::reject ? "reject" : "dead-letter"},
              {"origin", v.origin},
              {"schema", v.schema}};
  if (!v.dead_letter.empty()) out["dead_letter"] = v.dead_letter;
  return out;
}

}  // namespace evmesh::control
