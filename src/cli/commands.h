// evmeshctl commands beyond the original set (docs/cli.md): publish and tail events,
// the schema registry, and offline config validation.
#pragma once

#include "support.h"

namespace evmesh::cli {

// publish --type T --source S [--id ID] [--subject S] [--data TEXT|JSON] | --event FILE|JSON
int publish(const Endpoint& ep, Args& args);
// tail [--type T]... [--filters FILE|JSON] [--count N] [--listen HOST:PORT]
int tail(const Endpoint& ep, Args& args);
// schemas list | get TYPE [VERSION] | register FILE|JSON
int schemas(const Endpoint& ep, Args& args);
// config validate FILE [--set key=value]...
int config(Args& args);

}  // namespace evmesh::cli
