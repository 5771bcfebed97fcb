// How the embedded store heals itself after a write error: a full disk, or a data
// directory that became unwritable (docs/storage.md#disk-full).
//
// Design note. After a failed write RocksDB stops the DB (a "hard" background error):
// every write fails until DB::Resume() flushes the memtable (a new WAL and SST) and
// clears the error. RocksDB can resume by itself from NoSpace, but its
// SstFileManager waits until the free space reaches the reserved buffer (the
// write_buffer_size, 64 MiB by default), polling every 5 s, and while it waits
// DB::Resume() answers Busy: on a small or nearly full disk the store would stay
// read-only for good. So we turn that off (manual_recovery_listener) and resume
// ourselves: before a write, at most every kResumeInterval, until a flush fits.
// The DB is stopped by any failed write (append, cursor, dead letter), so every
// writer asks heal() first; an append that fails is never acked (its publishers
// get `unavailable` naming the cause) and, being one WriteBatch, is all or nothing.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include "evmesh/core/error.h"

namespace evmesh::store::detail {

// Add to DBOptions::listeners: no automatic recovery from NoSpace (see above).
std::shared_ptr<rocksdb::EventListener> manual_recovery_listener();

// An error naming what the store could not do and why, in words an operator acts
// on: "the disk holding DIR is full", "DIR is not writable". `unavailable` for I/O
// errors (retry later), `internal` otherwise.
Error store_failure(std::string_view what, const rocksdb::Status& s,
                    const std::filesystem::path& dir);

class Healer {
 public:
  static constexpr std::chrono::milliseconds kResumeInterval{100};

  Healer(rocksdb::DB& db, std::filesystem::path dir) : db_(db), dir_(std::move(dir)) {}

  // After a write returned `s`: when it is an I/O error the DB is stopped.
  void failed(const rocksdb::Status& s);
  // Before a write, any thread: OK when the DB takes writes (resuming it when it
  // was stopped and the last attempt is older than kResumeInterval); else the
  // error naming the original cause.
  Result<void> heal();
  bool stopped() const;

 private:
  rocksdb::DB& db_;
  const std::filesystem::path dir_;
  mutable std::mutex mutex_;
  bool stopped_ = false;
  bool fatal_ = false;  // RocksDB refuses to resume: only a reopen (restart) helps
  rocksdb::Status cause_;
  std::chrono::steady_clock::time_point last_attempt_{};
};

}  // namespace evmesh::store::detail
