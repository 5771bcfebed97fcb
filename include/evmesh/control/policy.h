// Policies: ordered rules that transform, route or drop events at ingress
// (docs/policies.md). A policy is parsed once from the config (YAML) into this
// immutable form; conditions are compiled then.
//
//   policy:
//     name: customer-data-policy
//     rules:
//       - name: pii-encryption
//         condition: "data contains 'ssn' OR data contains 'email'"
//         action: encrypt-fields
//         fields: ["ssn", "email"]
//       - name: retention
//         condition: "type startsWith 'com.company.'"
//         action: set-ttl
//         ttl-days: 90
//
// Evaluation order: policies in file order, each policy's rules in file order; a
// rule's condition sees the event as the rules before it left it. `drop` ends the
// evaluation. The schema check runs before every policy (on the event as published).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/core/error.h"
#include "evmesh/filter/cesql.h"

namespace evmesh::control {

enum class ActionKind {
  encrypt_fields,    // fields -> AES-256-GCM envelopes (field_crypto.h)
  redact_fields,     // fields -> `replacement` (default "[REDACTED]")
  set_ttl,           // extension expirytime = now + ttl-days (RFC 3339, UTC)
  drop,              // the event is accepted and not routed anywhere
  set_extension,     // extension `name` = `value`
  remove_extension,  // extension `name` removed
  rename_type,       // type = `to`
  rename_source,     // source = `to`
  route,             // also deliver to the subscription `to`
};
std::string_view to_string(ActionKind);

struct Rule {
  std::string name;
  std::string condition;        // as written; empty = every event
  std::string cesql;            // the condition as CESQL (condition.h)
  cesql::ExpressionPtr expr;    // null = every event
  ActionKind action = ActionKind::drop;
  std::vector<std::string> fields;  // encrypt/redact: JSON data paths ("ssn", "card.number")
  std::string replacement = "[REDACTED]";
  int ttl_days = 0;
  std::string name_arg;         // set/remove-extension: the extension name
  std::string value;            // set-extension: its value
  std::string to;               // rename-*: new value; route: subscription id
};

struct Policy {
  std::string name;
  std::vector<Rule> rules;
};

// A `policy` value: one policy object or a list of them. Errors are
// Errc::invalid_subscription with a pointer relative to the value ("rules[1].action",
// "[2].rules[0].condition") and a message naming the problem (unknown key, wrong
// type, unknown action, missing argument, duplicate policy or rule name, bad condition).
Result<std::vector<Policy>> parse_policies(const nlohmann::json& value);

// The policies as JSON, for the admin API (conditions as written and as CESQL).
nlohmann::json to_json(const std::vector<Policy>& policies);

}  // namespace evmesh::control
