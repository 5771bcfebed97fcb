// The embedded durable EventStore on RocksDB (why RocksDB: docs/storage.md).
//
// One key space, prefixed by record kind:
//   'e' + offset (8 bytes big-endian)  -> event record (event_codec.h)
//   'c' + consumer name                -> committed offset (8 bytes big-endian)
//   'n'                                -> last offset ever assigned (survives trims)
//   'd' + consumer + '\0' + id (8 bytes) -> dead letter (event record)
//   't' + append time (8 bytes, microseconds since the epoch) + first offset of the
//       batch (8 bytes)           -> bytes appended before the batch (8 bytes; empty in
//       stores written before size retention): the time index of replay (offset_at)
//       and the size index of retention (offset_to_fit)
//   'b'                                -> bytes of event records ever appended
//   'a' + subscription id              -> saved API subscription (its spec, opaque)
// Appends are one WriteBatch (atomic); the commit policy picks WriteOptions::sync.
// Recovery is RocksDB's WAL replay in point-in-time mode: it keeps every complete
// record and stops at a torn one.
//
// After a write error (disk full, read-only directory) RocksDB refuses writes until
// resumed; each later write first asks the Healer (rocksdb_recovery.h), which
// resumes the DB once space returns: the store heals itself.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <mutex>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "event_codec.h"
#include "rocksdb_recovery.h"
#include "evmesh/store/event_store.h"

namespace evmesh::store {
namespace {

constexpr char kEvent = 'e', kCursor = 'c', kLast = 'n', kDead = 'd', kTime = 't', kBytes = 'b';
constexpr char kSaved = 'a';  // API subscriptions

std::string be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xFF);
  return out;
}

std::uint64_t from_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (unsigned char c : s.substr(0, 8)) v = (v << 8) | c;
  return v;
}

std::string event_key(std::uint64_t offset) { return kEvent + be64(offset); }
std::string time_key(std::int64_t micros, std::uint64_t offset) {
  return kTime + be64(static_cast<std::uint64_t>(micros)) + be64(offset);
}
bool is_time_key(rocksdb::Slice key) { return key.size() == 17 && key[0] == kTime; }
std::uint64_t batch_first_of(rocksdb::Slice time_key) {
  return from_be64(std::string_view(time_key.data() + 9, 8));
}
std::int64_t micros_of(std::chrono::system_clock::time_point t) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}
std::string cursor_key(std::string_view consumer) { return kCursor + std::string(consumer); }
std::string saved_key(std::string_view id) { return kSaved + std::string(id); }
// Subscription ids hold no NUL, so one consumer's prefix is never another's.
std::string dead_prefix(std::string_view consumer) { return kDead + std::string(consumer) + '\0'; }

// RocksDB's own log goes to its LOG file; its warnings and errors (such as "dropping
// N bytes" of a torn WAL record on recovery) also go to ours.
class WarningsToSpdlog final : public rocksdb::Logger {
 public:
  WarningsToSpdlog() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    // Creating a new store, RocksDB reports the missing directory it is about to make.
    if (std::string_view(line).find("NotFound") != std::string_view::npos) return;
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL)
      spdlog::warn("event store: {}", line);
    else
      spdlog::error("event store: {}", line);
  }
};

std::unexpected<Error> store_error(std::string_view what, const rocksdb::Status& s) {
  // Busy: RocksDB's own recovery from the last error is still running.
  const bool unavailable = s.IsNoSpace() || s.IsIOError() || s.IsIOFenced() || s.IsBusy();
  return fail(unavailable ? Errc::unavailable : Errc::internal,
              "the event store cannot " + std::string(what) + ": " + s.ToString());
}

class RocksDbStore final : public EventStore {
 public:
  RocksDbStore(std::unique_ptr<rocksdb::DB> db, StoreOptions options)
      : db_(std::move(db)), options_(std::move(options)), healer_(*db_, options_.data_dir) {
    sync_writes_.sync = options_.commit == CommitPolicy::group;
    load_bounds();
    load_byte_counts();
    // The memtable is empty after recovery; a write failing into an empty one leaves
    // RocksDB's WAL writer failed even after DB::Resume() (no new WAL is made).
    if (auto s = db_->Put({}, std::string(1, kLast), be64(last_.load())); !s.ok())
      healer_.failed(s);
    if (options_.commit == CommitPolicy::interval) syncer_ = std::thread([this] { sync_loop(); });
  }

  ~RocksDbStore() override {
    {
      std::lock_guard lock(sync_mutex_);
      stopping_ = true;
    }
    sync_cv_.notify_all();
    if (syncer_.joinable()) syncer_.join();
    db_->SyncWAL();
    db_->Close();
  }

  Result<std::uint64_t> append(std::span<const EventPtr> events) override {
    std::lock_guard lock(write_mutex_);
    if (auto writable = healer_.heal(); !writable) return std::unexpected(writable.error());
    rocksdb::WriteBatch batch;
    std::string record;
    auto last = last_.load();
    std::uint64_t batch_bytes = 0;
    for (const auto& ev : events) {
      record.clear();
      detail::encode_event(*ev, record);
      batch_bytes += record.size();
      batch.Put(event_key(++last), record);
    }
    batch.Put(std::string(1, kLast), be64(last));
    batch.Put(std::string(1, kBytes), be64(appended_bytes_.load() + batch_bytes));
    // Never earlier than the previous batch, so times grow with offsets.
    const auto micros = std::max(last_micros_, micros_of(std::chrono::system_clock::now()));
    if (!events.empty()) batch.Put(time_key(micros, last_.load() + 1), be64(appended_bytes_.load()));
    if (auto s = db_->Write(sync_writes_, &batch); !s.ok()) return write_error("append", s);
    last_.store(last);
    last_micros_ = micros;
    appended_bytes_ += batch_bytes;
    return last;
  }

  Result<std::vector<StoredEvent>> read(std::uint64_t after, std::size_t max) const override {
    std::vector<StoredEvent> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(event_key(std::max(after + 1, first_.load()))); it->Valid() && out.size() < max;
         it->Next()) {
      auto key = it->key();
      if (key.size() != 9 || key[0] != kEvent) break;
      auto ev = detail::decode_event(it->value().ToStringView());
      if (!ev) return std::unexpected(ev.error());
      out.push_back({from_be64(std::string_view(key.data() + 1, 8)), std::move(*ev)});
    }
    if (!it->status().ok()) return store_error("read", it->status());
    return out;
  }

  Result<void> commit(std::string_view consumer, std::uint64_t offset) override {
    std::lock_guard lock(cursor_mutex_);
    if (auto current = cursor(consumer); current && *current >= offset) return {};
    // The committer commits cursors every 100 ms: the store heals without publishes.
    if (auto writable = healer_.heal(); !writable) return writable;
    // Unsynced: a lost cursor update only means some events are delivered again.
    if (auto s = db_->Put({}, cursor_key(consumer), be64(offset)); !s.ok())
      return write_error("commit a cursor", s);
    return {};
  }

  Result<void> rewind(std::string_view consumer, std::uint64_t offset) override {
    std::lock_guard lock(cursor_mutex_);
    if (auto s = db_->Put({}, cursor_key(consumer), be64(offset)); !s.ok())
      return write_error("rewind a cursor", s);
    return {};
  }

  Result<std::uint64_t> offset_at(std::chrono::system_clock::time_point t) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    it->Seek(time_key(micros_of(t), 0));
    if (!it->status().ok()) return store_error("search the time index", it->status());
    if (!it->Valid() || !is_time_key(it->key())) return last_.load() + 1;
    // An entry may name a batch partly trimmed: its retained part starts at first_.
    return std::max(from_be64(std::string_view(it->key().data() + 9, 8)), first_.load());
  }

  std::optional<std::uint64_t> cursor(std::string_view consumer) const override {
    std::string value;
    if (!db_->Get({}, cursor_key(consumer), &value).ok()) return std::nullopt;
    return from_be64(value);
  }

  Result<void> forget(std::string_view consumer) override {
    std::lock_guard lock(cursor_mutex_);
    rocksdb::WriteBatch batch;
    batch.Delete(cursor_key(consumer));
    auto prefix = dead_prefix(consumer);
    auto end = prefix;
    end.back() = '\1';
    batch.DeleteRange(prefix, end);
    batch.Delete(saved_key(consumer));
    if (auto writable = healer_.heal(); !writable) return writable;
    if (auto s = db_->Write(synced(), &batch); !s.ok())
      return write_error("forget a subscription", s);
    return {};
  }

  Result<void> save_subscription(std::string_view id, std::string_view spec) override {
    if (auto writable = healer_.heal(); !writable) return writable;
    if (auto s = db_->Put(synced(), saved_key(id), spec); !s.ok())
      return write_error("save subscription '" + std::string(id) + "'", s);
    return {};
  }

  Result<void> erase_subscription(std::string_view id) override {
    if (auto writable = healer_.heal(); !writable) return writable;
    if (auto s = db_->Delete(synced(), saved_key(id)); !s.ok())
      return write_error("erase subscription '" + std::string(id) + "'", s);
    return {};
  }

  Result<std::vector<SavedSubscription>> saved_subscriptions() const override {
    std::vector<SavedSubscription> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(std::string(1, kSaved)); it->Valid() && it->key()[0] == kSaved; it->Next())
      out.push_back({it->key().ToString().substr(1), it->value().ToString()});
    if (!it->status().ok()) return store_error("list saved subscriptions", it->status());
    return out;
  }

  // Unsynced like cursors: the WAL keeps writes in order, so a dead letter is never
  // lost while the cursor that moved past its event survives.
  Result<void> dlq_put(std::string_view consumer, std::uint64_t id, const EventPtr& ev) override {
    std::string record;
    detail::encode_event(*ev, record);
    if (auto s = db_->Put({}, dead_prefix(consumer) + be64(id), record); !s.ok())
      return write_error("store a dead letter", s);
    return {};
  }

  Result<std::vector<StoredEvent>> dlq_list(std::string_view consumer, std::uint64_t after,
                                            std::size_t max) const override {
    std::vector<StoredEvent> out;
    if (after == std::numeric_limits<std::uint64_t>::max()) return out;
    const auto prefix = dead_prefix(consumer);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(prefix + be64(after + 1)); it->Valid() && out.size() < max; it->Next()) {
      auto key = it->key().ToStringView();
      if (!key.starts_with(prefix) || key.size() != prefix.size() + 8) break;
      auto ev = detail::decode_event(it->value().ToStringView());
      if (!ev) return std::unexpected(ev.error());
      out.push_back({from_be64(key.substr(prefix.size())), std::move(*ev)});
    }
    if (!it->status().ok()) return store_error("list dead letters", it->status());
    return out;
  }

  Result<EventPtr> dlq_get(std::string_view consumer, std::uint64_t id) const override {
    std::string value;
    auto s = db_->Get({}, dead_prefix(consumer) + be64(id), &value);
    if (s.IsNotFound()) return fail(Errc::not_found, "no dead letter " + std::to_string(id));
    if (!s.ok()) return store_error("read a dead letter", s);
    return detail::decode_event(value);
  }

  Result<bool> dlq_erase(std::string_view consumer, std::uint64_t id) override {
    std::lock_guard lock(cursor_mutex_);  // get-then-delete answers truthfully
    const auto key = dead_prefix(consumer) + be64(id);
    std::string value;
    auto found = db_->Get({}, key, &value);
    if (found.IsNotFound()) return false;
    if (!found.ok()) return store_error("read a dead letter", found);
    if (auto s = db_->Delete({}, key); !s.ok()) return write_error("delete a dead letter", s);
    return true;
  }

  Result<std::size_t> trim(std::uint64_t upto) override {
    std::lock_guard lock(write_mutex_);
    upto = std::min(upto, last_.load());
    const auto first = first_.load();
    if (upto < first) return 0;
    rocksdb::WriteBatch batch;
    batch.DeleteRange(event_key(first), event_key(upto + 1));
    // Time index entries of batches wholly trimmed: each before the last one that
    // starts at or before the new first offset.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    std::string previous;
    std::uint64_t previous_bytes = 0;  // bytes before the batch that holds upto + 1
    for (it->Seek(std::string(1, kTime)); it->Valid() && is_time_key(it->key()); it->Next()) {
      if (from_be64(std::string_view(it->key().data() + 9, 8)) > upto + 1) break;
      if (!previous.empty()) batch.Delete(previous);
      previous = it->key().ToString();
      previous_bytes = from_be64(it->value().ToStringView());
    }
    if (auto s = db_->Write({}, &batch); !s.ok()) return write_error("trim", s);
    first_.store(upto + 1);
    trimmed_bytes_.store(upto == last_.load() ? appended_bytes_.load() : previous_bytes);
    return upto + 1 - first;
  }

  std::uint64_t last_offset() const override { return last_.load(); }
  std::uint64_t first_offset() const override { return first_.load(); }

  std::uint64_t bytes() const override {
    if (first_.load() > last_.load()) return 0;
    return appended_bytes_.load() - std::min(trimmed_bytes_.load(), appended_bytes_.load());
  }

  Result<std::uint64_t> offset_to_fit(std::uint64_t max_bytes) const override {
    const auto first = first_.load();
    if (bytes() <= max_bytes) return first - 1;
    const auto appended = appended_bytes_.load();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(std::string(1, kTime)); it->Valid() && is_time_key(it->key()); it->Next()) {
      const auto batch_first = batch_first_of(it->key());
      if (batch_first <= first) continue;  // cutting before it drops nothing
      if (appended - from_be64(it->value().ToStringView()) <= max_bytes) return batch_first - 1;
    }
    if (!it->status().ok()) return store_error("search the size index", it->status());
    return last_.load();
  }

 private:
  // A write failed: the DB may be stopped until the healer resumes it.
  std::unexpected<Error> write_error(std::string_view what, const rocksdb::Status& s) {
    healer_.failed(s);
    return std::unexpected(detail::store_failure(what, s, options_.data_dir));
  }

  static rocksdb::WriteOptions synced() {
    rocksdb::WriteOptions o;
    o.sync = true;
    return o;
  }

  // Size retention after a restart: bytes ever appended, and those before the batch
  // holding the oldest retained event (the last time index entry at or before it).
  void load_byte_counts() {
    std::string value;
    if (db_->Get({}, std::string(1, kBytes), &value).ok()) appended_bytes_.store(from_be64(value));
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(std::string(1, kTime)); it->Valid() && is_time_key(it->key()); it->Next()) {
      if (batch_first_of(it->key()) > first_.load()) break;
      trimmed_bytes_.store(from_be64(it->value().ToStringView()));
    }
    if (first_.load() > last_.load()) trimmed_bytes_.store(appended_bytes_.load());  // all trimmed
  }

  // The offsets after a restart: the last one ever assigned and the oldest kept.
  void load_bounds() {
    std::uint64_t last = 0;
    std::string value;
    if (db_->Get({}, std::string(1, kLast), &value).ok()) last = from_be64(value);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    it->Seek(std::string(1, kEvent));
    const bool any = it->Valid() && it->key().size() == 9 && it->key()[0] == kEvent;
    last_.store(last);
    first_.store(any ? from_be64(std::string_view(it->key().data() + 1, 8)) : last + 1);
    it->SeekForPrev(std::string(1, kTime) + std::string(16, '\xff'));
    if (it->Valid() && is_time_key(it->key()))
      last_micros_ = static_cast<std::int64_t>(from_be64(std::string_view(it->key().data() + 1, 8)));
  }

  void sync_loop() {
    std::unique_lock lock(sync_mutex_);
    while (!sync_cv_.wait_for(lock, options_.sync_interval, [this] { return stopping_; })) {
      if (auto s = db_->SyncWAL(); !s.ok()) spdlog::warn("event store: WAL sync failed: {}", s.ToString());
    }
  }

  std::unique_ptr<rocksdb::DB> db_;
  const StoreOptions options_;
  detail::Healer healer_;
  rocksdb::WriteOptions sync_writes_;
  std::mutex write_mutex_;   // appends and trims: offsets are assigned in order
  std::mutex cursor_mutex_;  // commit's read-compare-write
  std::atomic<std::uint64_t> first_{1}, last_{0};
  // Size retention: bytes ever appended, and those before the oldest retained batch.
  std::atomic<std::uint64_t> appended_bytes_{0}, trimmed_bytes_{0};
  std::int64_t last_micros_ = 0;  // append time of the last batch; guarded by write_mutex_

  std::mutex sync_mutex_;
  std::condition_variable sync_cv_;
  bool stopping_ = false;
  std::thread syncer_;
};

}  // namespace

bool embedded_store_exists(const std::filesystem::path& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(data_dir / "events" / "CURRENT", ec);
}

Result<std::unique_ptr<EventStore>> open_embedded_store(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec)
    return fail(Errc::unavailable, "cannot create the data directory " + options.data_dir.string() +
                                       ": " + ec.message());
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  // Replays the WAL up to the first damaged record (a write torn by a crash) and
  // opens with everything before it.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.keep_log_file_num = 4;
  db_options.info_log = std::make_shared<WarningsToSpdlog>();
  db_options.listeners.push_back(detail::manual_recovery_listener());
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, (options.data_dir / "events").string(), &raw);
  if (!s.ok())
    return std::unexpected(
        detail::store_failure("open in " + options.data_dir.string(), s, options.data_dir));
  return std::make_unique<RocksDbStore>(std::unique_ptr<rocksdb::DB>(raw), options);
}

}  // namespace evmesh::store
