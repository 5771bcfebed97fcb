#include "rocksdb_recovery.h"

#include <spdlog/spdlog.h>

namespace evmesh::store::detail {
namespace {

class ManualRecovery final : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "evmesh.ManualRecovery"; }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status error,
                            bool* auto_recovery) override {
    if (error.IsNoSpace() || error.subcode() == rocksdb::Status::kSpaceLimit)
      *auto_recovery = false;
  }
};

bool is_io(const rocksdb::Status& s) { return s.IsNoSpace() || s.IsIOError() || s.IsIOFenced(); }

std::string describe(const rocksdb::Status& s, const std::filesystem::path& dir) {
  if (s.IsNoSpace()) return "the disk holding " + dir.string() + " is full (" + s.ToString() + ")";
  const auto text = s.ToString();
  if (text.find("Permission denied") != std::string::npos ||
      text.find("Read-only file system") != std::string::npos)
    return dir.string() + " is not writable (" + text + ")";
  return text;
}

}  // namespace

std::shared_ptr<rocksdb::EventListener> manual_recovery_listener() {
  return std::make_shared<ManualRecovery>();
}

Error store_failure(std::string_view what, const rocksdb::Status& s,
                    const std::filesystem::path& dir) {
  // Busy: a recovery from the last error is still running.
  const bool unavailable = is_io(s) || s.IsBusy();
  return Error::make(unavailable ? Errc::unavailable : Errc::internal,
                     "the event store cannot " + std::string(what) + ": " + describe(s, dir));
}

void Healer::failed(const rocksdb::Status& s) {
  if (!is_io(s)) return;
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  cause_ = s;
  last_attempt_ = std::chrono::steady_clock::now();
  spdlog::error(
      "event store: writes stopped: {}; publishes to durable subscriptions get 503 "
      "until it is writable again",
      describe(s, dir_));
}

Result<void> Healer::heal() {
  std::lock_guard lock(mutex_);
  if (!stopped_) return {};
  const auto now = std::chrono::steady_clock::now();
  if (now - last_attempt_ >= kResumeInterval) {
    last_attempt_ = now;
    if (auto s = db_.Resume(); s.ok()) {
      spdlog::info("event store: writable again after: {}", describe(cause_, dir_));
      stopped_ = false;
      return {};
    } else if (s.severity() >= rocksdb::Status::Severity::kFatalError && !fatal_) {
      fatal_ = true;  // said once: it does not change
      spdlog::error("event store: cannot resume ({}); restart evmeshd", s.ToString());
    }
  }
  return std::unexpected(store_failure("write", cause_, dir_));
}

bool Healer::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

}  // namespace evmesh::store::detail
