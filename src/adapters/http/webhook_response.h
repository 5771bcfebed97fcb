// How a webhook's answer becomes a DeliveryOutcome. Pure functions, no I/O: the
// exchange feeds them the status line and the Retry-After header.
//
//   2xx                 -> delivered
//   408, 429, 5xx       -> retry (Retry-After, if present and valid, -> retry_after)
//   anything else       -> permanent (3xx: we do not follow redirects; 4xx: the
//                          request itself is wrong, resending it cannot help)
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "evmesh/core/sink.h"

namespace evmesh::http {

// RFC 9110 §10.2.3: delta-seconds ("120") or an HTTP-date in any of the three
// forms a recipient must accept (IMF-fixdate, RFC 850, asctime). A date in the past
// is zero. nullopt when the value is malformed (the header is then ignored).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// nullopt when `text` is not an HTTP-date.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

// `reason` is the response's reason phrase (may be empty); `retry_after` the raw
// header value (empty when absent).
DeliveryOutcome outcome_for_status(int status, std::string_view reason, std::string_view retry_after,
                                   std::chrono::system_clock::time_point now);

}  // namespace evmesh::http
