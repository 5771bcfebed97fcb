// Opening a webhook connection: resolve the host (skipped for an IP literal), connect,
// TCP_NODELAY. Shared by the one-request Exchange and the pipelined connection.
//
// The connect phase ends at `connect_deadline` (min of the attempt's deadline and
// now + WebhookOptions::connect_timeout); errors are texts naming the sink and what
// failed, as they go into DeliveryOutcome::error.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/beast/core/tcp_stream.hpp>

#include "adapters/http/webhook_config.h"

namespace evmesh::http {

using OpenDone = std::function<void(std::string error)>;  // empty error: connected

// `stream` must outlive the operation; `done` runs on the stream's executor.
void async_open(boost::beast::tcp_stream& stream, std::shared_ptr<const WebhookConfig> config,
                std::chrono::steady_clock::time_point deadline, OpenDone done);

std::string ms_text(std::chrono::milliseconds d);

}  // namespace evmesh::http
