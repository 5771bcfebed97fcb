#include "reloader.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <map>
#include <set>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "evmesh/control/effective_config.h"
#include "evmesh/control/subscription_spec.h"

extern char** environ;

namespace evmesh::daemon {
namespace asio = boost::asio;
namespace fs = std::filesystem;

struct Reloader::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, const control::Config& config, control::Overrides overrides,
       Runtime& runtime, control::ControlPlane& plane, std::shared_ptr<control::AccessControl> access,
       const TlsRotation* tls)
      : io(io), strand(asio::make_strand(io)), file(config.file), overrides(std::move(overrides)),
        runtime(runtime), plane(plane), access(std::move(access)), tls(tls), watch(config.reload.watch),
        signals(strand, SIGHUP), inotify(strand), debounce(strand) {
    auto started = std::make_shared<const control::Config>(config);
    in_force.store(started);
    wanted.store(started);
    watch_paths(config);
  }

  asio::io_context& io;
  // Signals, file events and the debounce timer run here: one reload at a time.
  asio::strand<asio::io_context::executor_type> strand;
  fs::path file;
  control::Overrides overrides;
  Runtime& runtime;
  control::ControlPlane& plane;
  std::shared_ptr<control::AccessControl> access;  // null: no authentication to reload
  const TlsRotation* tls;                          // null: no TLS listener to renew
  // The config in force and the file as last loaded (they differ in restart-only keys).
  std::atomic<std::shared_ptr<const control::Config>> in_force, wanted;
  bool watch;
  asio::signal_set signals;
  asio::posix::stream_descriptor inotify;
  asio::steady_timer debounce;
  std::array<char, 4096> buffer{};
  std::set<fs::path> files;  // watched files (their directories are watched)
  fs::path schema_dir;
  std::map<int, fs::path> dirs;  // watch descriptor -> directory
  std::string pending;           // what changed, for the status
  bool stopped = false;

  void watch_paths(const control::Config& config) {
    files = {fs::absolute(config.file)};
    if (!config.encryption.key_file.empty()) files.insert(fs::absolute(config.encryption.key_file));
    for (const auto& f : tls_files(config)) files.insert(fs::absolute(f));
    schema_dir = config.schemas.directory.empty() ? fs::path() : fs::absolute(config.schemas.directory);
  }

  void do_signal() {
    signals.async_wait([self = shared_from_this()](auto ec, int) {
      if (ec || self->stopped) return;
      self->reload("SIGHUP");
      self->do_signal();
    });
  }

  // Watches the directories (editors replace a file by rename, which a watch on the
  // file itself would miss) and filters by name.
  void start_watching() {
    const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return spdlog::warn("reload: inotify unavailable; reload with SIGHUP");
    inotify.assign(fd);
    rewatch();
    do_read();
  }

  void rewatch() {
    for (const auto& [wd, _] : dirs) inotify_rm_watch(inotify.native_handle(), wd);
    dirs.clear();
    std::set<fs::path> wanted;
    for (const auto& f : files) wanted.insert(f.parent_path());
    if (!schema_dir.empty()) wanted.insert(schema_dir);
    // IN_MODIFY restarts the debounce while a file is being written in place.
    constexpr auto kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE;
    for (const auto& d : wanted) {
      const int wd = inotify_add_watch(inotify.native_handle(), d.c_str(), kMask);
      if (wd < 0) spdlog::warn("reload: cannot watch {}: {}", d.string(), std::strerror(errno));
      else dirs[wd] = d;
    }
  }

  bool relevant(const fs::path& dir, std::string_view name) const {
    if (!schema_dir.empty() && dir == schema_dir) return true;
    return files.contains(dir / std::string(name));
  }

  void do_read() {
    inotify.async_read_some(asio::buffer(buffer), [self = shared_from_this()](auto ec, std::size_t n) {
      if (ec || self->stopped) return;
      self->on_read(n);
      self->do_read();
    });
  }

  void on_read(std::size_t n) {
    for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer.data() + at);
      at += sizeof(inotify_event) + ev->len;
      auto dir = dirs.find(ev->wd);
      if (dir == dirs.end() || ev->len == 0) continue;
      const std::string_view name(ev->name);
      if (!relevant(dir->second, name)) continue;
      pending = (dir->second / std::string(name)).string();
      // Editors write in several steps: reload once they are done.
      debounce.expires_after(std::chrono::milliseconds(200));
      debounce.async_wait([self = shared_from_this()](auto ec) {
        if (ec || self->stopped) return;
        self->reload("file change: " + self->pending);
      });
    }
  }

  void failed(const std::string& trigger, std::string error, std::string file_name, int line) {
    spdlog::error("reload ({}) refused, the running config stays: {}", trigger, error);
    plane.record({0, false, std::move(error), std::move(file_name), line, trigger,
                  control::now_rfc3339(), {}});
  }

  bool reload(const std::string& trigger) {
    control::Config next;
    try {
      next = control::load_config(file, overrides, environ);
    } catch (const control::ConfigError& e) {
      failed(trigger, e.what(), e.file(), e.line());
      return false;
    }
    // Validate the pipeline before touching anything, so a bad key file or schema does
    // not leave new ACLs with old policies.
    if (auto built = plane.build(next); !built) {
      failed(trigger, built.error().message, "", 0);
      return false;
    }
    TlsRotation::Plan certificates;
    if (tls) {
      auto plan = tls->prepare(next);
      if (!plan) {
        failed(trigger, plan.error().message, "", 0);
        return false;
      }
      certificates = std::move(*plan);
    }
    if (access) {
      if (auto ok = access->update(next.auth, next.acl); !ok) {
        failed(trigger, ok.error().message, "", 0);
        return false;
      }
    }
    if (auto ok = plane.apply(next); !ok) {
      failed(trigger, ok.error().message, "", 0);
      return false;
    }
    std::vector<std::string> changes = tls ? tls->install(std::move(certificates)) : std::vector<std::string>{};
    for (auto& c : diff_subscriptions(next)) changes.push_back(std::move(c));
    auto running = in_force.load();
    in_force.store(std::make_shared<const control::Config>(control::config_in_force(*running, next)));
    wanted.store(std::make_shared<const control::Config>(next));
    watch_paths(next);
    if (inotify.is_open()) rewatch();
    spdlog::info("reload ({}): config applied; {} change(s)", trigger, changes.size());
    plane.record({0, true, "", "", 0, trigger, control::now_rfc3339(), std::move(changes)});
    return true;
  }

  // YAML subscriptions: added, replaced when any property changed, removed when gone.
  std::vector<std::string> diff_subscriptions(const control::Config& next) {
    std::vector<std::string> changes;
    std::map<std::string, Subscription> running;
    for (auto& s : runtime.list())
      if (s.declared_in_config) running.emplace(s.id, std::move(s));
    for (const auto& sub : next.subscriptions) {
      auto it = running.find(sub.id);
      Result<Subscription> done;
      if (it == running.end()) {
        if (runtime.get(sub.id)) {  // an API subscription took the id
          changes.push_back("subscription " + sub.id + " not added: an API subscription has this id");
          continue;
        }
        done = runtime.create(sub);
        changes.push_back("subscription " + sub.id + " added");
      } else {
        const bool same = control::to_json(it->second) == control::to_json(sub);
        running.erase(it);
        if (same) continue;
        done = runtime.replace(sub.id, sub);
        changes.push_back("subscription " + sub.id + " replaced");
      }
      if (!done) changes.back() = "subscription " + sub.id + " failed: " + done.error().message;
    }
    for (const auto& [id, _] : running) {
      runtime.remove(id);
      changes.push_back("subscription " + id + " removed");
    }
    return changes;
  }
};

Reloader::Reloader(asio::io_context& io, const control::Config& config, control::Overrides overrides,
                   Runtime& runtime, control::ControlPlane& plane,
                   std::shared_ptr<control::AccessControl> access, const TlsRotation* tls)
    : impl_(std::make_shared<Impl>(io, config, std::move(overrides), runtime, plane, std::move(access), tls)) {}

Reloader::~Reloader() { stop(); }

void Reloader::start() {
  asio::post(impl_->strand, [impl = impl_] {
    impl->do_signal();
    if (impl->watch) impl->start_watching();  // reload.watch is read at start-up only
  });
}

void Reloader::stop() {
  asio::post(impl_->strand, [impl = impl_] {
    if (impl->stopped) return;
    impl->stopped = true;
    boost::system::error_code ec;
    impl->signals.cancel(ec);
    impl->debounce.cancel();
    if (impl->inotify.is_open()) impl->inotify.close(ec);
  });
}

nlohmann::json Reloader::effective_config() const {
  const auto in_force = impl_->in_force.load();
  auto out = control::effective_config(*in_force);
  out["pending_restart"] = control::pending_restart(*in_force, *impl_->wanted.load());
  return out;
}

void Reloader::reload(const std::string& trigger) {
  asio::post(impl_->strand, [impl = impl_, trigger] { impl->reload(trigger); });
}

}  // namespace evmesh::daemon
