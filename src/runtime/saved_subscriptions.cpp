// Runtime: durable subscriptions created through an API are saved in the event store
// and restored at start-up (docs/storage.md); YAML ones are owned by the config.
#include <spdlog/spdlog.h>

#include "committer.h"
#include "evmesh/runtime/runtime.h"
#include "route_table.h"

namespace evmesh {

bool Runtime::saved(const Subscription& sub) const {
  return options_.encode_saved && sub.durable && !sub.declared_in_config;
}

Result<void> Runtime::save(const Subscription& sub, bool was_saved) {
  if (saved(sub)) return store_->save_subscription(sub.id, options_.encode_saved(sub));
  if (was_saved) return store_->erase_subscription(sub.id);  // replaced by a transient one
  return {};
}

Result<std::vector<store::SavedSubscription>> Runtime::saved_subscriptions() {
  std::lock_guard lock(table_->write_mutex());
  if (auto opened = ensure_store(); !opened) return std::unexpected(opened.error());
  return store_->saved_subscriptions();
}

Result<Subscription> Runtime::restore(Subscription sub) { return add(std::move(sub), false); }

void Runtime::hold_trim(bool held) {
  std::lock_guard lock(table_->write_mutex());
  trim_held_ = held;
  if (committer_) committer_->hold_trim(held);
}

}  // namespace evmesh
