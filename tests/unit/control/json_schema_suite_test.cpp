// The official JSON-Schema-Test-Suite (Debian package json-schema-test-suite) against
// our schema compilation and validation (valijson underneath), for the drafts we claim:
// 7 and 4. Counts are printed; the thresholds are the measured pass counts, so a
// regression fails. Known misses are listed in docs/schemas.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "evmesh/control/schema_registry.h"

namespace evmesh::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSuite = "/usr/share/json-schema-test-suite/tests";

struct Tally {
  int passed = 0, failed = 0, uncompilable = 0;
  std::map<std::string, int> failed_by_file;
};

Tally run_draft(const std::string& draft, int number) {
  Tally t;
  for (const auto& entry : fs::directory_iterator(kSuite / draft)) {
    if (entry.path().extension() != ".json") continue;  // optional/ is a directory
    std::ifstream in(entry.path());
    const auto groups = json::parse(in);
    const auto file = entry.path().filename().string();
    for (const auto& group : groups) {
      json doc = {{"type", "suite"}, {"version", 1}, {"schema", group["schema"]}, {"draft", number}};
      auto version = parse_schema_version(doc, file);
      for (const auto& test : group["tests"]) {
        bool ok;
        if (!version) {
          ++t.uncompilable;
          ok = false;
        } else {
          ok = validate(*version, test["data"]).empty() == test["valid"].get<bool>();
        }
        if (ok) ++t.passed;
        else ++t.failed, ++t.failed_by_file[file];
      }
    }
  }
  std::cout << draft << ": " << t.passed << " passed, " << t.failed << " failed ("
            << t.uncompilable << " in schemas we refuse to compile)\n";
  for (const auto& [f, n] : t.failed_by_file) std::cout << "  " << f << ": " << n << "\n";
  return t;
}

TEST(JsonSchemaSuite, Draft7) {
  if (!fs::exists(kSuite)) GTEST_SKIP() << "json-schema-test-suite is not installed";
  const auto t = run_draft("draft7", 7);
  EXPECT_GE(t.passed, 390);  // of 423 (docs/schemas.md lists the misses)
}

TEST(JsonSchemaSuite, Draft4) {
  if (!fs::exists(kSuite)) GTEST_SKIP() << "json-schema-test-suite is not installed";
  const auto t = run_draft("draft4", 4);
  EXPECT_GE(t.passed, 299);  // of 320
}

}  // namespace
}  // namespace evmesh::control
