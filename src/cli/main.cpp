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
//   evmeshctl [--url URL] publish --type T --source S [--data ...] | --event FILE|JSON
//   evmeshctl [--url URL] tail [--type T]... [--filters FILE|JSON] [--count N]
//   evmeshctl [--url ADMIN_URL] schemas list | get TYPE [VERSION] | register FILE|JSON
//   evmeshctl config validate [--set key=value]... FILE
//   evmeshctl COMMAND --help
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
#include "commands.h"
#include "support.h"

namespace {

using namespace evmesh::cli;  // NOLINT: the command helpers (support.h)

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
  const bool help = args.flag("--help") || args.flag("-h");
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
  // https://: the CAs to trust, and a client certificate for mTLS.
  for (auto [name, field] : {std::pair{"--cacert", &Endpoint::ca_file}, std::pair{"--cert", &Endpoint::cert_file},
                             std::pair{"--key", &Endpoint::key_file}}) {
    if (auto value = args.option(name, missing)) (*endpoint).*field = *value;
    if (missing) return usage_error(std::string(name) + " needs a FILE");
  }

  auto group = args.next();
  if (help) {  // evmeshctl --help, evmeshctl COMMAND --help
    if (!group) {
      std::cout << usage();
      return kOk;
    }
    const auto name = *group == "subscription" || *group == "subs" ? "subscriptions"
                      : *group == "schema"                          ? "schemas"
                                                                    : *group;
    const auto text = command_usage(name);
    if (text.empty()) return usage_error("unknown command '" + *group + "'");
    std::cout << text;
    return kOk;
  }
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
  if (*group == "publish") return publish(*endpoint, args);
  if (*group == "tail") return tail(*endpoint, args);
  if (*group == "schemas" || *group == "schema") return schemas(*endpoint, args);
  if (*group == "config") return config(args);
  if (*group == "dlq") return dlq(*endpoint, args);
  if (*group == "replay") return replay(*endpoint, args);
  return usage_error("unknown command '" + *group + "'");
}
