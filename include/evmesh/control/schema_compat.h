// Compatibility between two versions of a JSON Schema (docs/schemas.md).
//
// backward: data valid under the OLD schema stays valid under the NEW one
//           (consumers upgrade first). forward: data valid under the NEW one is
//           valid under the OLD one (producers upgrade first). full: both.
//
// We decide soundly only what we can check structurally, recursively through
// `properties` of object schemas, and refuse the change when one of these holds for
// "reader" R and "writer" W (backward: R = new, W = old; forward: R = old, W = new):
//   - R requires a property W does not require (W's data may lack it);
//   - a property both declare has a `type` in W that R does not allow
//     (integer counts as a number);
//   - R forbids additional properties (`additionalProperties: false`) and W declares
//     a property R does not, or W allows additional properties;
//   - R declares an `enum` for a property and W's enum has values R's lacks (or W
//     has no enum).
// Other keywords (patterns, bounds, combinators, $ref) are not compared: a change
// in them is accepted. This is documented as a known limit.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evmesh/control/schema_registry.h"

namespace evmesh::control {

// The reasons `next` breaks `rule` against `previous`; empty when compatible.
std::vector<std::string> compatibility_violations(const nlohmann::json& previous,
                                                  const nlohmann::json& next, Compatibility rule);

}  // namespace evmesh::control
