// evmeshctl: command-line client of evmeshd's HTTP listener (see docs/cli.md).
//
//   evmeshctl [--url URL] filter test --filters FILE|JSON --event FILE|JSON
//   evmeshctl [--url URL] cesql eval EXPR --event FILE|JSON
//   evmeshctl [--url URL] subscriptions list [--json] | get ID | delete ID | create FILE|JSON
//   evmeshctl [--url URL] dlq list SUB [--json] | show SUB N | delete SUB N | redrive SUB N
//   evmeshctl [--url URL] replay SUB --from oldest|TIME
//   evmeshctl hash-key [--pbkdf2] [KEY|-]
//   evmeshctl [--url ADMIN_URL] acl check --principal P (--publish|--subscribe) TYPE
//   evmeshctl [--url ADMIN_URL] admin config | denials
//   evmeshctl decrypt --key-file FILE [FILE|JSON|-]
//
// Exit status: 0 success (filter test: MATCH), 1 NO MATCH, 2 any error (usage,
// connection, or a problem answer from the server, whose detail is printed).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "evmesh/control/field_crypto.h"
#include "evmesh/control/auth.h"
#include "http_client.h"

namespace {

using evmesh::cli::Endpoint;
using evmesh::cli::HttpReply;
using nlohmann::json;

constexpr int kOk = 0, kNoMatch = 1, kError = 2;
constexpr std::string_view kDefaultUrl = "http://127.0.0.1:8080";

constexpr std::string_view kUsage = R"(usage: evmeshctl [--url URL] COMMAND ...

  filter test --filters FILE|JSON --event FILE|JSON
      Asks the broker whether the filters match the event (nothing is published).
      Prints MATCH (exit 0) or NO MATCH (exit 1).
  cesql eval EXPR --event FILE|JSON
      Evaluates a CESQL expression against the event; prints value, type and errors.
  subscriptions list [--json]
  subscriptions get ID
  subscriptions delete ID
  subscriptions create FILE|JSON
  dlq list SUB [--json]
      Dead letters of durable subscription SUB: id, reason, attempts, event id, error.
  dlq show SUB N
  dlq delete SUB N
  dlq redrive SUB N
      Delivers dead letter N again; it leaves the queue once the sink acks.
  replay SUB --from oldest|TIME
      Delivers durable subscription SUB's retained events again, from the oldest one
      or from the first stored at or after TIME (RFC 3339).
  decrypt --key-file FILE [FILE|JSON|-]
      Decrypts every field an encrypt-fields policy encrypted ({"$enc": ...} envelopes)
      in an event or its data, with the keys of FILE (docs/policies.md); prints the JSON.
      Works offline (no broker).

  hash-key [--pbkdf2] [KEY|-]
      Prints the hash to put in auth.api_keys (docs/security.md). Without KEY, makes a
      new random key and prints it too. --pbkdf2: a salted, slow hash (for passwords).
  acl check --principal P --publish TYPE | --subscribe TYPE
      Asks the admin listener whether P may publish / subscribe to TYPE: prints
      ALLOWED (exit 0) or DENIED (exit 1). --url is the admin listener's.
  admin config      the effective configuration, secrets redacted (admin listener)
  admin denials     the denial counters (admin listener)

  FILE|JSON is a file name, '-' for standard input, or JSON text starting with { or [.
  --url defaults to $EVMESH_URL, else http://127.0.0.1:8080.
  --token TOKEN (default $EVMESH_TOKEN) is sent as Authorization: Bearer TOKEN.
  Exit status: 0 ok / MATCH, 1 NO MATCH, 2 error.
)";

int usage_error(std::string_view what) {
  std::cerr << "evmeshctl: " << what << "\n\n" << kUsage;
  return kError;
}

int error(std::string_view what) {
  std::cerr << "evmeshctl: " << what << "\n";
  return kError;
}

// Command-line arguments after the global options, consumed front to back.
class Args {
 public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}
  std::optional<std::string> next() {
    if (pos_ >= args_.size()) return std::nullopt;
    return args_[pos_++];
  }
  // Removes "--name VALUE" or "--name=VALUE" wherever it stands; nullopt when absent.
  // A missing value sets `missing`.
  std::optional<std::string> option(std::string_view name, bool& missing) {
    for (std::size_t i = pos_; i < args_.size(); ++i) {
      if (args_[i] == name) {
        if (i + 1 >= args_.size()) {
          missing = true;
          return std::nullopt;
        }
        std::string value = args_[i + 1];
        args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
        return value;
      }
      if (args_[i].starts_with(std::string(name) + "=")) {
        std::string value = args_[i].substr(name.size() + 1);
        args_.erase(args_.begin() + static_cast<long>(i));
        return value;
      }
    }
    return std::nullopt;
  }
  bool flag(std::string_view name) {
    for (std::size_t i = pos_; i < args_.size(); ++i)
      if (args_[i] == name) {
        args_.erase(args_.begin() + static_cast<long>(i));
        return true;
      }
    return false;
  }
  bool empty() const { return pos_ >= args_.size(); }
  const std::string& peek() const { return args_[pos_]; }

 private:
  std::vector<std::string> args_;
  std::size_t pos_ = 0;
};

// A FILE|JSON argument: inline JSON, '-' (stdin) or a file. Errors name the option.
evmesh::Result<json> load_json(std::string_view option, const std::string& value) {
  std::string text;
  const auto first = value.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (value[first] == '{' || value[first] == '[')) {
    text = value;
  } else if (value == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(value, std::ios::binary);
    if (!in) return evmesh::fail(evmesh::Errc::not_found, std::string(option) + ": cannot read file '" + value + "'");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return evmesh::fail(evmesh::Errc::invalid_format,
                        std::string(option) + ": not valid JSON" + (value == text ? "" : " in '" + value + "'"));
  return parsed;
}

// A non-2xx reply: print the problem detail (and where it points), exit 2.
int server_error(const HttpReply& reply) {
  auto problem = json::parse(reply.body, nullptr, false);
  std::ostringstream out;
  out << "server answered " << reply.status;
  if (problem.is_object() && problem.contains("detail")) {
    out << ": " << problem["detail"].get<std::string>();
    if (auto p = problem.find("pointer"); p != problem.end() && p->is_string()) out << " (at " << p->get<std::string>() << ")";
    if (auto p = problem.find("position"); p != problem.end()) out << " [position " << p->dump() << "]";
  } else if (!reply.body.empty()) {
    out << ": " << reply.body.substr(0, 500);
  }
  return error(out.str());
}

// Sends and returns the JSON body of a 2xx reply; otherwise prints and returns nullopt.
std::optional<json> call(const Endpoint& ep, std::string_view method, std::string_view path,
                         const json* body, int& status) {
  std::string text;
  if (body) text = body->dump();
  auto reply = evmesh::cli::send(ep, method, path, body ? &text : nullptr);
  if (!reply) {
    status = error(reply.error().message);
    return std::nullopt;
  }
  if (reply->status < 200 || reply->status >= 300) {
    status = server_error(*reply);
    return std::nullopt;
  }
  if (reply->body.empty()) return json();
  auto parsed = json::parse(reply->body, nullptr, false);
  if (parsed.is_discarded()) {
    status = error("the server's reply is not JSON");
    return std::nullopt;
  }
  return parsed;
}

// --name FILE|JSON, required.
std::optional<json> required_json(Args& args, std::string_view name, int& status) {
  bool missing = false;
  auto value = args.option(name, missing);
  if (!value) {
    status = usage_error(std::string(name) + (missing ? " needs a value" : " is required"));
    return std::nullopt;
  }
  auto parsed = load_json(name, *value);
  if (!parsed) {
    status = error(parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

int filter_test(const Endpoint& ep, Args& args) {
  int status = kError;
  auto filters = required_json(args, "--filters", status);
  if (!filters) return status;
  auto event = required_json(args, "--event", status);
  if (!event) return status;
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  // A single filter object is accepted for convenience.
  if (filters->is_object()) *filters = json::array({*filters});
  json body = {{"filters", *filters}, {"event", *event}};
  auto reply = call(ep, "POST", "/admin/filter/test", &body, status);
  if (!reply) return status;
  const bool matches = reply->value("matches", false);
  std::cout << (matches ? "MATCH" : "NO MATCH") << "\n";
  return matches ? kOk : kNoMatch;
}

int cesql_eval(const Endpoint& ep, Args& args) {
  int status = kError;
  auto event = required_json(args, "--event", status);
  if (!event) return status;
  auto expression = args.next();
  if (!expression) return usage_error("cesql eval needs an expression");
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "' (quote the expression)");
  json body = {{"expression", *expression}, {"event", *event}};
  auto reply = call(ep, "POST", "/admin/cesql/eval", &body, status);
  if (!reply) return status;
  std::cout << "value: " << (*reply)["value"].dump() << "\n";
  std::cout << "type: " << reply->value("type", "") << "\n";
  for (const auto& e : reply->value("errors", json::array()))
    std::cout << "error: " << e.value("kind", "") << ": " << e.value("message", "") << "\n";
  return kOk;
}

std::string id_path(std::string_view id, std::string out = "/subscriptions/") {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else (out += '%', out += kHex[c >> 4], out += kHex[c & 0xF]);
  }
  return out;
}

int subscriptions(const Endpoint& ep, Args& args) {
  int status = kError;
  auto verb = args.next();
  if (!verb) return usage_error("subscriptions needs list, get, delete or create");
  if (*verb == "list") {
    const bool raw = args.flag("--json");
    if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
    auto reply = call(ep, "GET", "/subscriptions", nullptr, status);
    if (!reply) return status;
    if (raw) {
      std::cout << reply->dump(2) << "\n";
      return kOk;
    }
    for (const auto& s : *reply) {
      std::cout << s.value("id", "") << "\t" << s.value("sink", "");
      if (s.contains("types")) std::cout << "\ttypes=" << s["types"].dump();
      if (s.contains("source")) std::cout << "\tsource=" << s["source"].dump();
      if (s.contains("filters")) std::cout << "\tfilters=" << s["filters"].dump();
      std::cout << "\n";
    }
    return kOk;
  }
  if (*verb == "get" || *verb == "delete") {
    auto id = args.next();
    if (!id) return usage_error("subscriptions " + *verb + " needs an ID");
    if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
    auto reply = call(ep, *verb == "get" ? "GET" : "DELETE", id_path(*id), nullptr, status);
    if (!reply) return status;
    if (*verb == "get") std::cout << reply->dump(2) << "\n";
    else std::cout << "deleted " << *id << "\n";
    return kOk;
  }
  if (*verb == "create") {
    auto source = args.next();
    if (!source) return usage_error("subscriptions create needs a FILE or JSON");
    if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
    auto body = load_json("create", *source);
    if (!body) return error(body.error().message);
    auto reply = call(ep, "POST", "/subscriptions", &*body, status);
    if (!reply) return status;
    std::cout << reply->dump(2) << "\n";
    return kOk;
  }
  return usage_error("unknown subscriptions command '" + *verb + "'");
}

int dlq(const Endpoint& ep, Args& args) {
  int status = kError;
  auto verb = args.next();
  if (!verb) return usage_error("dlq needs list, show, delete or redrive");
  const bool raw = *verb == "list" && args.flag("--json");
  auto sub = args.next();
  if (!sub) return usage_error("dlq " + *verb + " needs a subscription id");
  const auto base = id_path(*sub, "/admin/subscriptions/") + "/deadletters";
  if (*verb == "list") {
    if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
    auto all = json::array();
    std::string after = "0";
    for (;;) {  // every page
      auto reply = call(ep, "GET", base + "?after=" + after, nullptr, status);
      if (!reply) return status;
      for (auto& d : (*reply)["deadletters"]) all.push_back(std::move(d));
      if ((*reply)["next"].is_null()) break;
      after = (*reply)["next"].dump();
    }
    if (raw) {
      std::cout << all.dump(2) << "\n";
      return kOk;
    }
    for (const auto& d : all) {
      const auto& ev = d["event"];
      std::cout << d["id"].dump() << "\t" << ev.value("deadletterreason", "") << "\tattempts="
                << ev.value("deadletterattempts", json(0)).dump() << "\tid=" << ev.value("id", "")
                << "\t" << ev.value("deadlettererror", "") << "\n";
    }
    return kOk;
  }
  auto n = args.next();
  if (!n) return usage_error("dlq " + *verb + " needs a dead letter id");
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  if (*verb == "show") {
    auto reply = call(ep, "GET", base + "/" + *n, nullptr, status);
    if (!reply) return status;
    std::cout << (*reply)["event"].dump(2) << "\n";
    return kOk;
  }
  if (*verb == "delete" || *verb == "redrive") {
    const bool redrive = *verb == "redrive";
    auto reply = call(ep, redrive ? "POST" : "DELETE", base + "/" + *n + (redrive ? "/redrive" : ""),
                      nullptr, status);
    if (!reply) return status;
    std::cout << (redrive ? "redriving " : "deleted ") << *n << "\n";
    return kOk;
  }
  return usage_error("unknown dlq command '" + *verb + "'");
}

int replay(const Endpoint& ep, Args& args) {
  int status = kError;
  bool missing = false;
  auto from = args.option("--from", missing);
  if (!from) return usage_error(missing ? "--from needs a value" : "replay needs --from oldest|TIME");
  auto sub = args.next();
  if (!sub) return usage_error("replay needs a subscription id");
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  const json body = {{"from", *from}};
  auto reply = call(ep, "POST", id_path(*sub, "/admin/subscriptions/") + "/replay", &body, status);
  if (!reply) return status;
  std::cout << "replaying " << *sub << " from offset " << (*reply)["offset"].dump() << "\n";
  return kOk;
}

int decrypt(Args& args) {
  bool missing = false;
  auto key_file = args.option("--key-file", missing);
  if (!key_file) return usage_error(missing ? "--key-file needs a value" : "decrypt needs --key-file FILE");
  auto source = args.next().value_or("-");
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  auto keys = evmesh::control::KeyRing::load(*key_file);
  if (!keys) return error(keys.error().message);
  auto doc = load_json("input", source);
  if (!doc) return error(doc.error().message);
  auto count = evmesh::control::decrypt_all(*keys, *doc);
  if (!count) return error("cannot decrypt: " + count.error().message);
  std::cout << doc->dump(2) << "\n";
  return kOk;
}

int hash_key(Args& args) {
  const bool pbkdf2 = args.flag("--pbkdf2");
  auto key = args.next();
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  const bool generated = !key;
  if (key && *key == "-") {
    key.emplace();
    std::getline(std::cin, *key);
  }
  if (generated) key = evmesh::control::random_hex(32);  // 256 random bits
  if (key->empty()) return usage_error("hash-key: the key is empty");
  if (generated) std::cout << "key:  " << *key << "\n";
  std::cout << (generated ? "hash: " : "")
            << (pbkdf2 ? evmesh::control::hash_pbkdf2(*key) : evmesh::control::hash_sha256(*key))
            << "\n";
  return kOk;
}

std::string query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '*' || c == ':')
      out.push_back(static_cast<char>(c));
    else (out += '%', out += kHex[c >> 4], out += kHex[c & 0xF]);
  }
  return out;
}

int acl_check(const Endpoint& ep, Args& args) {
  bool missing = false;
  auto principal = args.option("--principal", missing);
  if (!principal) return usage_error(missing ? "--principal needs a value" : "acl check needs --principal P");
  auto publish = args.option("--publish", missing);
  auto subscribe = args.option("--subscribe", missing);
  if (missing) return usage_error("--publish / --subscribe need a TYPE");
  if (publish.has_value() == subscribe.has_value())
    return usage_error("acl check needs exactly one of --publish TYPE or --subscribe TYPE");
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  const std::string path = "/admin/acl/check?principal=" + query_escape(*principal) +
                           "&action=" + (publish ? "publish" : "subscribe") +
                           "&type=" + query_escape(publish ? *publish : *subscribe);
  int status = kError;
  auto reply = call(ep, "GET", path, nullptr, status);
  if (!reply) return status;
  const bool allowed = reply->value("allowed", false);
  std::cout << (allowed ? "ALLOWED" : "DENIED") << "\n";
  return allowed ? kOk : kNoMatch;
}

int admin(const Endpoint& ep, Args& args) {
  auto what = args.next();
  if (!what || (*what != "config" && *what != "denials"))
    return usage_error("admin needs config or denials");
  if (!args.empty()) return usage_error("unexpected argument '" + args.peek() + "'");
  int status = kError;
  auto reply = call(ep, "GET", "/admin/" + *what, nullptr, status);
  if (!reply) return status;
  std::cout << reply->dump(2) << "\n";
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> raw(argv + 1, argv + argc);
  Args args(std::move(raw));
  if (args.flag("--help") || args.flag("-h")) {
    std::cout << kUsage;
    return kOk;
  }
  bool missing = false;
  auto url = args.option("--url", missing);
  if (missing) return usage_error("--url needs a value");
  if (!url) {
    const char* env = std::getenv("EVMESH_URL");
    url = env && *env ? std::string(env) : std::string(kDefaultUrl);
  }
  auto endpoint = evmesh::cli::parse_endpoint(*url);
  if (!endpoint) return usage_error(endpoint.error().message);
  auto token = args.option("--token", missing);
  if (missing) return usage_error("--token needs a value");
  if (!token)
    if (const char* env = std::getenv("EVMESH_TOKEN"); env && *env) token = env;
  if (token) endpoint->authorization = "Bearer " + *token;

  auto group = args.next();
  if (!group) return usage_error("no command");
  if (*group == "filter") {
    auto cmd = args.next();
    if (cmd != "test") return usage_error("filter: the command is 'filter test'");
    return filter_test(*endpoint, args);
  }
  if (*group == "cesql") {
    auto cmd = args.next();
    if (cmd != "eval") return usage_error("cesql: the command is 'cesql eval'");
    return cesql_eval(*endpoint, args);
  }
  if (*group == "decrypt") return decrypt(args);
  if (*group == "hash-key") return hash_key(args);
  if (*group == "acl") {
    auto cmd = args.next();
    if (cmd != "check") return usage_error("acl: the command is 'acl check'");
    return acl_check(*endpoint, args);
  }
  if (*group == "admin") return admin(*endpoint, args);
  if (*group == "subscriptions" || *group == "subscription" || *group == "subs")
    return subscriptions(*endpoint, args);
  if (*group == "dlq") return dlq(*endpoint, args);
  if (*group == "replay") return replay(*endpoint, args);
  return usage_error("unknown command '" + *group + "'");
}
