// evmeshd: the evmesh event broker daemon.
//
//   evmeshd [--config FILE] [--set key=value]... [--check-config] [--version]
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "daemon.h"
#include "evmesh/control/config.h"
#include "evmesh/control/control_plane.h"

extern char** environ;

namespace {

constexpr std::string_view kUsage =
    "usage: evmeshd [--config FILE] [--set key=value]... [--check-config] [--version]\n"
    "  --config FILE    YAML configuration (default: config/evmesh.yaml)\n"
    "  --set key=value  override a config key, e.g. --set http.port=9000 (repeatable);\n"
    "                   environment: EVMESH_HTTP__PORT=9000\n"
    "  --check-config   validate the configuration and exit (0 when valid)\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "evmeshd: %s\n%.*s", message.c_str(), static_cast<int>(kUsage.size()),
               kUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file = "config/evmesh.yaml";
  evmesh::control::Overrides overrides;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=')
        return std::string(arg.substr(flag.size() + 1));
      if (arg == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    } else if (arg == "--version") {
      std::puts("evmeshd 0.1.0");
      return 0;
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (auto file = value("--config")) {
      config_file = *file;
    } else if (auto kv = value("--set")) {
      auto eq = kv->find('=');
      if (eq == std::string::npos || eq == 0)
        return usage_error("--set expects key=value, got '" + *kv + "'");
      overrides.emplace_back(kv->substr(0, eq), kv->substr(eq + 1));
    } else {
      return usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }

  evmesh::control::Config config;
  try {
    config = evmesh::control::load_config(config_file, overrides, environ);
  } catch (const evmesh::control::ConfigError& e) {
    std::fprintf(stderr, "evmeshd: invalid configuration: %s\n", e.what());
    return 2;
  }
  if (check_only) {
    // The key file and schema directory are read when the pipeline is built.
    if (auto ok = evmesh::control::ControlPlane().apply(config); !ok) {
      std::fprintf(stderr, "evmeshd: invalid configuration: %s\n", ok.error().message.c_str());
      return 2;
    }
    std::printf("%s: configuration is valid (%zu subscriptions)\n", config_file.c_str(),
                config.subscriptions.size());
    return 0;
  }
  evmesh::daemon::setup_logging(config.log);
  try {
    return evmesh::daemon::run(config, overrides);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}
