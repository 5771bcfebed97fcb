// Test helpers for load_config: YAML written into a fresh temp directory, an
// environment block built from strings, and the ConfigError a load throws.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "evmesh/control/config.h"

namespace evmesh::control::testing_util {

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "evmesh-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& yaml, const std::string& name = "evmesh.yaml") {
    auto path = dir_ / name;
    // A fresh file rather than truncating the old one: ext4 flushes truncated
    // rewrites to disk (auto_da_alloc), which makes every case wait on I/O.
    std::filesystem::remove(path);
    std::ofstream(path, std::ios::binary) << yaml;
    return path;
  }

  // The file's name as errors report it.
  std::string file(const std::string& name = "evmesh.yaml") const { return (dir_ / name).string(); }

  Config load(const std::string& yaml, const Overrides& cli = {},
              std::vector<std::string> env = {}) {
    auto path = write(yaml);
    auto block = environ_block(env);
    return load_config(path, cli, block.data());
  }

  // The error loading `yaml` throws; a failed expectation when it loads.
  ConfigError error(const std::string& yaml, const Overrides& cli = {},
                    std::vector<std::string> env = {}) {
    auto path = write(yaml);
    auto block = environ_block(env);
    try {
      load_config(path, cli, block.data());
    } catch (const ConfigError& e) {
      return e;
    }
    ADD_FAILURE() << "loaded without error:\n" << yaml;
    return ConfigError("", 0, "", "");
  }

  static std::vector<char*> environ_block(std::vector<std::string>& env) {
    std::vector<char*> block;
    for (auto& entry : env) block.push_back(entry.data());
    block.push_back(nullptr);
    return block;
  }

  std::filesystem::path dir_;
};

}  // namespace evmesh::control::testing_util
