// Runtime: the dead-letter queues of durable subscriptions, kept in the event store.
#include "evmesh/runtime/runtime.h"
#include "route_table.h"

namespace evmesh {

Result<std::shared_ptr<Dispatcher>> Runtime::durable_dispatcher(std::string_view id) const {
  auto snap = table_->snapshot();
  auto at = snap->find(id);
  if (!at) return fail(Errc::not_found, "subscription '" + std::string(id) + "' does not exist");
  if (!at->route->sub.durable)
    return fail(Errc::conflict, "subscription '" + std::string(id) +
                                    "' is not durable: it has no dead-letter queue in the store");
  return at->route->dispatcher;
}

Result<std::vector<store::StoredEvent>> Runtime::dead_letters(std::string_view id,
                                                              std::uint64_t after,
                                                              std::size_t max) const {
  if (auto d = durable_dispatcher(id); !d) return std::unexpected(d.error());
  return store_->dlq_list(id, after, max);
}

Result<EventPtr> Runtime::dead_letter(std::string_view id, std::uint64_t dlq_id) const {
  if (auto d = durable_dispatcher(id); !d) return std::unexpected(d.error());
  auto ev = store_->dlq_get(id, dlq_id);
  if (!ev && ev.error().code == Errc::not_found)
    return fail(Errc::not_found, "subscription '" + std::string(id) + "' has no dead letter " +
                                     std::to_string(dlq_id));
  return ev;
}

Result<void> Runtime::delete_dead_letter(std::string_view id, std::uint64_t dlq_id) {
  if (auto d = durable_dispatcher(id); !d) return std::unexpected(d.error());
  auto erased = store_->dlq_erase(id, dlq_id);
  if (!erased) return std::unexpected(erased.error());
  if (!*erased)
    return fail(Errc::not_found, "subscription '" + std::string(id) + "' has no dead letter " +
                                     std::to_string(dlq_id));
  return {};
}

Result<void> Runtime::redrive(std::string_view id, std::uint64_t dlq_id) {
  auto dispatcher = durable_dispatcher(id);
  if (!dispatcher) return std::unexpected(dispatcher.error());
  auto ev = dead_letter(id, dlq_id);
  if (!ev) return std::unexpected(ev.error());
  (*dispatcher)->redrive(**ev, dlq_id);
  return {};
}

}  // namespace evmesh
