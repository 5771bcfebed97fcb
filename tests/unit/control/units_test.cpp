// Durations and sizes: the value syntax shared by the config and the API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "evmesh/control/config.h"
#include "evmesh/control/subscription_spec.h"

namespace evmesh::control {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(parse_duration("1d"), milliseconds(86'400'000));
  EXPECT_EQ(parse_duration("0ms"), milliseconds(0));
  EXPECT_EQ(parse_duration(std::string("3650d")), milliseconds(3650LL * 86'400'000));
}

TEST(Duration, RejectsMalformedStrings) {
  for (const char* bad : {"", "10", "1.5s", "-1s", "+1s", "10 s", "s", "10sec", "10S", "1m30s",
                          "3651d", "99999999999999999999ms", " 1s", "1s "}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(Duration, JsonIntegersAreMilliseconds) {
  EXPECT_EQ(parse_duration(json(1500)), milliseconds(1500));
  EXPECT_EQ(parse_duration(json(0)), milliseconds(0));
  EXPECT_EQ(parse_duration(json("2s")), milliseconds(2000));
  EXPECT_EQ(parse_duration(json(-1)), std::nullopt);
  EXPECT_EQ(parse_duration(json(1.5)), std::nullopt);
  EXPECT_EQ(parse_duration(json(true)), std::nullopt);
  EXPECT_EQ(parse_duration(json(nullptr)), std::nullopt);
  EXPECT_EQ(parse_duration(json::array()), std::nullopt);
  EXPECT_EQ(parse_duration(json(3650LL * 86'400'000 + 1)), std::nullopt);
}

TEST(Duration, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(2000)), "2s");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2m");
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(format_duration(milliseconds(36 * 3'600'000)), "36h");
}

TEST(Duration, FormatParsesBack) {
  for (std::int64_t ms : {1LL, 999LL, 1000LL, 61'000LL, 3'600'000LL, 7 * 86'400'000LL}) {
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
  }
}

TEST(Size, ParsesBytesAndUnits) {
  EXPECT_EQ(parse_size("1048576"), 1048576u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("10B"), 10u);
  EXPECT_EQ(parse_size("512KiB"), 512u * 1024);
  EXPECT_EQ(parse_size("1MiB"), 1u << 20);
  EXPECT_EQ(parse_size("1 MiB"), 1u << 20);
  EXPECT_EQ(parse_size("2GiB"), 2ULL << 30);
  EXPECT_EQ(parse_size("4GB"), 4'000'000'000ULL);
  EXPECT_EQ(parse_size("3KB"), 3000u);
  EXPECT_EQ(parse_size("5MB"), 5'000'000u);
}

TEST(Size, RejectsMalformed) {
  for (const char* bad : {"", "MiB", "1.5MiB", "-1", "1 XB", "1mib", "1  MiB", "1MiB ", "1k",
                          "99999999999999999999", "99999999999GiB"}) {
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace evmesh::control
