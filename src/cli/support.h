// evmeshctl's shared pieces: exit codes, argument parsing, JSON arguments, calls to
// the daemon with problem answers printed, and the usage texts (docs/cli.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.h"

namespace evmesh::cli {

using nlohmann::json;

constexpr int kOk = 0, kNoMatch = 1, kError = 2;
constexpr std::string_view kDefaultUrl = "http://127.0.0.1:8080";

// The whole usage text, and the part about one command group ("dlq"); empty when
// the group is unknown.
std::string_view usage();
std::string command_usage(std::string_view group);

// Prints "evmeshctl: WHAT" and the usage on stderr; returns kError.
int usage_error(std::string_view what);
// Prints "evmeshctl: WHAT" on stderr; returns kError.
int error(std::string_view what);

// Command-line arguments after the global options, consumed front to back.
class Args {
 public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}
  std::optional<std::string> next();
  // Removes "--name VALUE" or "--name=VALUE" wherever it stands; nullopt when absent.
  // A missing value sets `missing`.
  std::optional<std::string> option(std::string_view name, bool& missing);
  bool flag(std::string_view name);
  bool empty() const { return pos_ >= args_.size(); }
  const std::string& peek() const { return args_[pos_]; }

 private:
  std::vector<std::string> args_;
  std::size_t pos_ = 0;
};

// A FILE|JSON argument: inline JSON, '-' (stdin) or a file. Errors name the option.
Result<json> load_json(std::string_view option, const std::string& value);
// A non-2xx reply: print the problem detail (and where it points); returns kError.
int server_error(const HttpReply& reply);
// Sends and returns the JSON body of a 2xx reply; otherwise prints and returns nullopt
// with `status` set.
std::optional<json> call(const Endpoint& ep, std::string_view method, std::string_view path,
                         const json* body, int& status);
// --name FILE|JSON, required.
std::optional<json> required_json(Args& args, std::string_view name, int& status);
// `out` + the percent-escaped id.
std::string id_path(std::string_view id, std::string out = "/subscriptions/");

}  // namespace evmesh::cli
