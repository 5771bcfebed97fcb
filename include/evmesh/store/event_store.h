// EventStore: an append-only log of events with per-consumer cursors. Durable
// subscriptions will append before the publisher is acked and move their cursor
// when the sink acks. Implementations: memory (tests, transient); an embedded
// durable engine and Redis Streams come later behind this same interface, all
// checked by one typed test suite (tests/unit/store/event_store_test.cpp).
//
// Offsets start at 1 and grow by one per event; 0 means "before the first".
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "evmesh/core/event.h"

namespace evmesh::store {

struct StoredEvent {
  std::uint64_t offset;
  EventPtr event;
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Appends all events atomically; returns the offset of the last one.
  virtual Result<std::uint64_t> append(std::span<const EventPtr> events) = 0;
  // Up to `max` events with offset > `after`, in offset order.
  virtual Result<std::vector<StoredEvent>> read(std::uint64_t after, std::size_t max) const = 0;
  // Records that `consumer` has processed everything up to `offset` (monotonic:
  // committing an older offset than the current one is ignored).
  virtual Result<void> commit(std::string_view consumer, std::uint64_t offset) = 0;
  // The committed offset of `consumer`; 0 when it never committed.
  virtual std::uint64_t committed(std::string_view consumer) const = 0;
  // Drops events with offset <= `upto` (retention); returns how many were dropped.
  virtual Result<std::size_t> trim(std::uint64_t upto) = 0;
  // Offset of the newest event; 0 when empty.
  virtual std::uint64_t last_offset() const = 0;
  // Offset of the oldest retained event; last_offset() + 1 when empty.
  virtual std::uint64_t first_offset() const = 0;
};

std::unique_ptr<EventStore> make_memory_store();

}  // namespace evmesh::store
