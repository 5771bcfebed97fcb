// EventStore: an append-only log of events with per-consumer cursors. Durable
// subscriptions append before the publisher is acked and move their cursor when
// the sink acks; on restart each resumes after its cursor. Implementations:
// memory (tests, transient) and the embedded durable default on RocksDB
// (docs/storage.md); a distributed one can slot in later behind this interface.
// All are checked by one typed test suite (tests/unit/store/event_store_test.cpp).
//
// Offsets start at 1 and grow by one per event; 0 means "before the first". Offsets
// are never reused, not even after every event was trimmed.
// Thread-safe: every method may be called from any thread. append() returns once
// the batch is as durable as the store's commit policy promises, so callers batch
// (group commit) rather than call it per event.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "evmesh/core/event.h"

namespace evmesh::store {

struct StoredEvent {
  std::uint64_t offset;
  EventPtr event;
};

// A subscription created through an API, kept so that it survives a restart
// (docs/storage.md); `spec` is opaque to the store (the control module encodes it).
struct SavedSubscription {
  std::string id;
  std::string spec;
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Appends all events atomically; returns the offset of the last one. Errors are
  // `unavailable` naming the cause (disk full, data directory unwritable).
  virtual Result<std::uint64_t> append(std::span<const EventPtr> events) = 0;
  // Up to `max` events with offset > `after`, in offset order.
  virtual Result<std::vector<StoredEvent>> read(std::uint64_t after, std::size_t max) const = 0;
  // Records that `consumer` has processed everything up to `offset` (monotonic:
  // committing an older offset than the current one is ignored).
  virtual Result<void> commit(std::string_view consumer, std::uint64_t offset) = 0;
  // The committed offset of `consumer`; nullopt when it never committed (a new
  // consumer, as opposed to one that committed 0: nothing processed yet).
  virtual std::optional<std::uint64_t> cursor(std::string_view consumer) const = 0;
  // Sets `consumer`'s cursor to `offset` even when that moves it back (replay: the
  // events after it are delivered again).
  virtual Result<void> rewind(std::string_view consumer, std::uint64_t offset) = 0;
  // The first retained offset appended at or after `t` (the store records each
  // batch's append time; an event's own `time` attribute is not trusted);
  // last_offset() + 1 when none was.
  virtual Result<std::uint64_t> offset_at(std::chrono::system_clock::time_point t) const = 0;
  // Forgets `consumer`'s cursor, dead letters and saved subscription (its
  // subscription was deleted), in one write that is synced: a deleted subscription
  // does not come back after a crash.
  virtual Result<void> forget(std::string_view consumer) = 0;

  // Saved API subscriptions. Both writes are synced whatever the commit policy: when
  // they return, a restart finds (or no longer finds) the subscription.
  virtual Result<void> save_subscription(std::string_view id, std::string_view spec) = 0;
  virtual Result<void> erase_subscription(std::string_view id) = 0;
  // Every saved subscription, in id order.
  virtual Result<std::vector<SavedSubscription>> saved_subscriptions() const = 0;

  // The dead-letter queue of `consumer`: events whose delivery gave up, each under
  // an id (the event's log offset). Putting an existing id replaces it.
  virtual Result<void> dlq_put(std::string_view consumer, std::uint64_t id, const EventPtr& ev) = 0;
  // Up to `max` dead letters with id > `after`, in id order (offset = id).
  virtual Result<std::vector<StoredEvent>> dlq_list(std::string_view consumer, std::uint64_t after,
                                                    std::size_t max) const = 0;
  // One dead letter; `not_found` when there is none with that id.
  virtual Result<EventPtr> dlq_get(std::string_view consumer, std::uint64_t id) const = 0;
  // Removes one; false when there was none.
  virtual Result<bool> dlq_erase(std::string_view consumer, std::uint64_t id) = 0;
  // Drops events with offset <= `upto` (retention); returns how many were dropped.
  virtual Result<std::size_t> trim(std::uint64_t upto) = 0;
  // Offset of the newest event; 0 when nothing was ever appended.
  virtual std::uint64_t last_offset() const = 0;
  // Offset of the oldest retained event; last_offset() + 1 when empty.
  virtual std::uint64_t first_offset() const = 0;

  // Size-bounded retention (docs/storage.md). Bytes are those of the events' stored
  // records, counted per append() batch: a batch counts whole until trim() has
  // dropped all of it. Dead letters and cursors are not counted.
  // Bytes held by the retained events; 0 when none are.
  virtual std::uint64_t bytes() const = 0;
  // The offset to trim() up to so that at most `max_bytes` stay, cutting between
  // batches, oldest first: first_offset() - 1 when they fit already,
  // last_offset() when only dropping everything does.
  virtual Result<std::uint64_t> offset_to_fit(std::uint64_t max_bytes) const = 0;

  // committed(c) == cursor(c).value_or(0).
  std::uint64_t committed(std::string_view consumer) const { return cursor(consumer).value_or(0); }
};

// When append() returns, relative to crashes (docs/storage.md):
//   group     fsync'd: survives a power cut (callers batch: one fsync per batch);
//   interval  in the OS page cache, fsync'd every `sync_interval`: survives kill -9,
//             a power cut loses at most that interval;
//   none      in the OS page cache: survives kill -9, not a power cut.
enum class CommitPolicy { group, interval, none };

struct StoreOptions {
  std::filesystem::path data_dir;
  CommitPolicy commit = CommitPolicy::group;
  std::chrono::milliseconds sync_interval{100};
};

std::unique_ptr<EventStore> make_memory_store();
// Opens (creating when missing) the embedded store in options.data_dir. After a
// crash it recovers every complete record and drops a torn last one (logged).
// Errors name the directory and the cause.
Result<std::unique_ptr<EventStore>> open_embedded_store(const StoreOptions& options);
// Whether options.data_dir holds an embedded store already (a daemon restarting
// opens it at start to restore its saved subscriptions).
bool embedded_store_exists(const std::filesystem::path& data_dir);

}  // namespace evmesh::store
