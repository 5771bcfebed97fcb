#include "saved_subscriptions.h"

#include <spdlog/spdlog.h>

#include "evmesh/control/saved_subscription.h"
#include "evmesh/store/event_store.h"

namespace evmesh::daemon {

Result<std::set<std::string>> restore_saved_subscriptions(Runtime& runtime,
                                                          const control::Config& config) {
  std::set<std::string> restored;
  // A daemon that never had a durable subscription does not touch the disk.
  if (!store::embedded_store_exists(config.store.data_dir)) return restored;
  auto saved = runtime.saved_subscriptions();
  if (!saved) return std::unexpected(saved.error());
  for (const auto& [id, spec] : *saved) {
    auto sub = control::decode_saved_subscription(spec);
    if (sub && sub->id != id)
      sub = fail(Errc::invalid_subscription, "the saved record holds id '" + sub->id + "'");
    if (sub) sub = runtime.restore(std::move(*sub));
    if (!sub) {
      spdlog::error("saved subscription '{}' not restored (it stays saved): {}{}", id,
                    sub.error().pointer.empty() ? "" : sub.error().pointer + ": ",
                    sub.error().message);
      continue;
    }
    restored.insert(id);
  }
  if (!saved->empty())
    spdlog::info("restored {} of {} saved subscription(s) from {}", restored.size(), saved->size(),
                 config.store.data_dir.string());
  return restored;
}

}  // namespace evmesh::daemon
