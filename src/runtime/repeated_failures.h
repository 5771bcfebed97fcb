// RepeatedFailures: warn when a kind of failure starts, not on every retry of it.
// The committer's periodic work (cursor commits, trims, retention) runs every 100 ms;
// while a disk stays full each round fails the same way, and a warning per round
// buried the one line that said why. Repeats go to debug until a success ends them.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include <spdlog/spdlog.h>

namespace evmesh::detail {

class RepeatedFailures {
 public:
  // `key` names the kind of failure (e.g. "cursor orders"); `message` is logged.
  void failed(const std::string& key, std::string_view message) {
    if (failing_.insert(key).second)
      spdlog::warn("{} (repeats are logged at debug level until it succeeds)", message);
    else
      spdlog::debug("{}", message);
  }
  void succeeded(const std::string& key) { failing_.erase(key); }

 private:
  std::unordered_set<std::string> failing_;
};

}  // namespace evmesh::detail
