#include "support.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace evmesh::cli {

namespace {

constexpr std::string_view kUsage = R"(usage: evmeshctl [--url URL] COMMAND ...

  filter test --filters FILE|JSON --event FILE|JSON
      Asks the broker whether the filters match the event (nothing is published).
      Prints MATCH (exit 0) or NO MATCH (exit 1).
  cesql eval EXPR --event FILE|JSON
      Evaluates a CESQL expression against the event; prints value, type and errors.
  publish --type T --source S [--id ID] [--subject S] [--data TEXT|JSON]
  publish --event FILE|JSON
      Publishes one event (structured JSON; an array is a batch). Prints its id.
  tail [--type T]... [--filters FILE|JSON] [--count N] [--listen IP:PORT]
      Subscribes (a transient subscription delivering to evmeshctl on IP:PORT,
      default 127.0.0.1 and a free port) and prints each event as one JSON line
      until Ctrl-C or N events; then deletes the subscription.
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
  schemas list
  schemas get TYPE [VERSION]
  schemas register FILE|JSON
      The schema registry (admin listener; docs/schemas.md).
  config validate [--set key=value]... FILE
      Checks a config file offline as evmeshd would load it (policies, schemas and
      key file included): prints a summary, or file:line: key: reason (exit 2).
  admin config      the configuration in force, secrets redacted (admin listener)
  admin denials     the denial counters (admin listener)

  FILE|JSON is a file name, '-' for standard input, or JSON text starting with { or [.
  --url defaults to $EVMESH_URL, else http://127.0.0.1:8080.
  --token TOKEN (default $EVMESH_TOKEN) is sent as Authorization: Bearer TOKEN.
  https:// URLs: --cacert FILE (PEM CAs to trust; default: the system's), and
  --cert FILE --key FILE to present a client certificate (mTLS).
  Exit status: 0 ok / MATCH, 1 NO MATCH, 2 error.
)";

}  // namespace

std::string_view usage() { return kUsage; }

std::string command_usage(std::string_view group) {
  // A command's lines start with two spaces and its name; its description follows
  // with six. Two-word names ("filter test") match on the first word.
  std::string out;
  bool in = false;
  std::istringstream text{std::string(kUsage)};
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with("      ")) {
      if (in) out += line + "\n";
      continue;
    }
    in = line.starts_with("  " + std::string(group) + " ") || line == "  " + std::string(group);
    if (in) out += line + "\n";
  }
  if (out.empty()) return out;
  return "usage: evmeshctl [--url URL] [--token TOKEN] COMMAND ...\n\n" + out;
}

int usage_error(std::string_view what) {
  std::cerr << "evmeshctl: " << what << "\n\n" << kUsage;
  return kError;
}

int error(std::string_view what) {
  std::cerr << "evmeshctl: " << what << "\n";
  return kError;
}

// A FILE|JSON argument: inline JSON, '-' (stdin) or a file. Errors name the option.
Result<json> load_json(std::string_view option, const std::string& value) {
  std::string text;
  const auto first = value.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (value[first] == '{' || value[first] == '[')) {
    text = value;
  } else if (value == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(value, std::ios::binary);
    if (!in) return fail(Errc::not_found, std::string(option) + ": cannot read file '" + value + "'");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return fail(Errc::invalid_format,
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
  auto reply = send(ep, method, path, body ? &text : nullptr);
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

std::optional<std::string> Args::next() {
  if (pos_ >= args_.size()) return std::nullopt;
  return args_[pos_++];
}

std::optional<std::string> Args::option(std::string_view name, bool& missing) {
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

bool Args::flag(std::string_view name) {
  for (std::size_t i = pos_; i < args_.size(); ++i)
    if (args_[i] == name) {
      args_.erase(args_.begin() + static_cast<long>(i));
      return true;
    }
  return false;
}

std::string id_path(std::string_view id, std::string out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : id) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else (out += '%', out += kHex[c >> 4], out += kHex[c & 0xF]);
  }
  return out;
}

}  // namespace evmesh::cli
