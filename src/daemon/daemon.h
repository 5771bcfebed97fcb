// Daemon: wires the modules of evmeshd and runs them. Starts in order (runtime,
// config subscriptions, HTTP listener, gRPC listener), stops in reverse: on SIGTERM/SIGINT gRPC
// ends its streams and shuts down, then the HTTP
// listener stops accepting, deliveries drain up to runtime.drain_timeout, then
// everything closes and run() returns.
#pragma once

#include "evmesh/control/config.h"

namespace evmesh::daemon {

// Returns the process exit code: 0 after a clean shutdown (drained or not),
// 1 when start-up fails (the reason is logged). `overrides` are applied again on
// every reload (src/daemon/reloader.h).
int run(const control::Config& config, control::Overrides overrides = {});

// Configures the default spdlog logger from config.log (plain or JSON lines).
void setup_logging(const control::LogConfig& config);

}  // namespace evmesh::daemon
