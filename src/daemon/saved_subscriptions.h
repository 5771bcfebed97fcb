// Start-up: durable subscriptions created through an API were saved in the event
// store (docs/storage.md); they are created again before any listener accepts
// traffic, so their backlog is delivered and new events reach them.
#pragma once

#include <set>
#include <string>

#include "evmesh/control/config.h"
#include "evmesh/runtime/runtime.h"

namespace evmesh::daemon {

// When config.store.data_dir holds a store, opens it and restores every saved
// subscription; returns the ids restored. A saved subscription that cannot be
// restored (its sink names a bridge the config no longer has, say) is logged and
// skipped, and stays saved for a later start. Errors: the store cannot be opened.
Result<std::set<std::string>> restore_saved_subscriptions(Runtime& runtime,
                                                          const control::Config& config);

}  // namespace evmesh::daemon
