// Policy conditions: CESQL (docs/cesql.md) plus three shorthand operators from the
// policy examples, rewritten to CESQL before compiling (docs/policies.md):
//
//   data contains 'ssn'          ->  EXISTS data.ssn          (the JSON data has that field)
//   data.customer contains 'id'  ->  EXISTS data.customer.id
//   subject contains 'x'         ->  subject LIKE '%x%'       (any other attribute: substring)
//   type startsWith 'com.a.'     ->  type LIKE 'com.a.%'
//   source endsWith '/eu'        ->  source LIKE '%/eu'
//
// Operators are case-insensitive; the literal's `%`, `_` and `\` are escaped so they
// match themselves. Text inside string literals is never rewritten.
#pragma once

#include <string>
#include <string_view>

#include "evmesh/core/error.h"
#include "evmesh/filter/cesql.h"

namespace evmesh::control {

// The CESQL text for a condition; errors name the position (1-based byte offset).
Result<std::string> condition_to_cesql(std::string_view condition);

// Rewrites and compiles. Errors: Errc::invalid_subscription, message as cesql::compile.
Result<cesql::ExpressionPtr> compile_condition(std::string_view condition);

}  // namespace evmesh::control
