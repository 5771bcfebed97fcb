// Internal to the control module: reading typed values out of a yaml-cpp tree with
// errors that name the file, line and dotted key ("http.port",
// "subscriptions[2].filters[0].exact").
//
// Values that came from an override (--set, EVMESH_*) were spliced into the tree;
// their marks mean nothing, so the reader remembers which keys were overridden and
// reports those errors against the override (line 0) instead of the file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace evmesh::control::detail {

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // `key` and everything below it now comes from `origin` ("--set", "EVMESH_LOG__LEVEL").
  void set_origin(const std::string& key, std::string origin);

  // Throws ConfigError for `node` at `key`.
  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& message) const;

  // Typed scalars; each fails with "must be ..., got ..." naming the node.
  std::uint64_t integer(const YAML::Node& node, const std::string& key, std::uint64_t lo,
                        std::uint64_t hi) const;
  std::uint64_t size(const YAML::Node& node, const std::string& key, std::uint64_t lo,
                     std::uint64_t hi) const;
  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& key,
                                     bool allow_zero) const;
  std::string text(const YAML::Node& node, const std::string& key) const;  // non-empty
  std::string one_of(const YAML::Node& node, const std::string& key,
                     std::initializer_list<std::string_view> choices) const;

  // Calls fn(name, key node, value node) for each entry of a mapping; a null node is
  // an empty mapping. Fails on anything else, on non-scalar keys and duplicate keys.
  using EntryFn = std::function<void(const std::string&, const YAML::Node&, const YAML::Node&)>;
  void for_each(const YAML::Node& map, const std::string& key, const EntryFn& fn) const;

  // The tree as JSON: mappings become objects, sequences arrays; plain scalars are
  // typed by the YAML 1.2 core schema (null, true/false, integers, floats), quoted
  // and block scalars stay strings.
  nlohmann::json to_json(const YAML::Node& node, const std::string& key) const;

 private:
  nlohmann::json to_json(const YAML::Node& node, const std::string& key, int depth,
                         std::size_t& budget) const;
  const std::string* origin(const std::string& key) const;

  std::string file_;
  std::map<std::string, std::string> origins_;  // overridden key -> origin
};

// A scalar typed by the YAML 1.2 core schema (see Reader::to_json).
nlohmann::json scalar_to_json(const YAML::Node& scalar);

// The node a dotted pointer ("filters[0].exact", "delivery.maxattempts") names below
// `node`; when part of it does not exist (a missing required property), the deepest
// node that does. Map keys may themselves contain dots: the longest matching key wins.
YAML::Node node_at(const YAML::Node& node, std::string_view pointer);

// "a.b" joins; an empty parent gives just the name.
std::string join_key(std::string_view parent, std::string_view name);

// Byte sizes: 1048576, "1048576", "512KiB", "1 MiB", "4GB". Units B, KB, MB, GB
// (powers of 1000) and KiB, MiB, GiB (powers of 1024).
std::string format_size(std::uint64_t bytes);

}  // namespace evmesh::control::detail
