#include "commands.h"

#include <charconv>
#include <functional>
#include <csignal>
#include <iostream>
#include <memory>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "evmesh/codec/http_binding.h"
#include "evmesh/codec/json_format.h"
#include "evmesh/control/config.h"
#include "evmesh/control/control_plane.h"

extern char** environ;

namespace evmesh::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string random_id() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string id = "evmeshctl-";
  for (int i = 0; i < 16; ++i) id.push_back("0123456789abcdef"[hex(rd)]);
  return id;
}

bool unexpected(Args& args, int& status) {
  if (args.empty()) return false;
  status = usage_error("unexpected argument '" + args.peek() + "'");
  return true;
}

// Every value of a repeatable option.
std::vector<std::string> all_options(Args& args, std::string_view name, bool& missing) {
  std::vector<std::string> out;
  while (auto v = args.option(name, missing)) out.push_back(std::move(*v));
  return out;
}

// One connection from the daemon's webhook sink: each request is an event (any HTTP
// binding mode), printed as one line of CloudEvents JSON, answered 204.
class TailSession : public std::enable_shared_from_this<TailSession> {
 public:
  TailSession(tcp::socket socket, std::function<void()> on_event)
      : socket_(std::move(socket)), on_event_(std::move(on_event)) {}
  void do_read() {
    req_ = {};
    bh::async_read(socket_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->on_read();
    });
  }

 private:
  void on_read() {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& f : req_)
      if (f.name() != bh::field::content_type)
        headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    for (auto& h : headers)
      for (auto& c : h.first) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto events = codec::decode_http(req_[bh::field::content_type], headers, std::move(req_.body()));
    res_ = bh::response<bh::empty_body>{events ? bh::status::no_content : bh::status::bad_request, 11};
    if (events) {
      for (const auto& ev : *events) {
        std::cout << codec::to_json(*ev).dump() << std::endl;
        on_event_();
      }
    } else {
      std::cerr << "evmeshctl: a delivery that is not a CloudEvent: " << events.error().message << "\n";
    }
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    bh::async_write(socket_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec) self->do_read();
    });
  }

  tcp::socket socket_;
  std::function<void()> on_event_;
  beast::flat_buffer buffer_;
  bh::request<bh::string_body> req_;
  bh::response<bh::empty_body> res_;
};

}  // namespace

int publish(const Endpoint& ep, Args& args) {
  int status = kError;
  bool missing = false;
  json body;
  if (auto event = args.option("--event", missing)) {
    auto parsed = load_json("--event", *event);
    if (!parsed) return error(parsed.error().message);
    body = std::move(*parsed);
  } else {
    auto type = args.option("--type", missing);
    auto source = args.option("--source", missing);
    auto id = args.option("--id", missing);
    auto subject = args.option("--subject", missing);
    auto data = args.option("--data", missing);
    if (missing) return usage_error("an option of publish needs a value");
    if (!type || !source) return usage_error("publish needs --type and --source (or --event FILE|JSON)");
    body = {{"specversion", "1.0"}, {"id", id.value_or(random_id())}, {"source", *source}, {"type", *type}};
    if (subject) body["subject"] = *subject;
    if (data) {  // JSON when it parses, else text
      auto parsed = json::parse(*data, nullptr, false);
      body["datacontenttype"] = parsed.is_discarded() ? "text/plain" : "application/json";
      body["data"] = parsed.is_discarded() ? json(*data) : parsed;
    }
  }
  if (missing) return usage_error("--event needs a value");
  if (unexpected(args, status)) return status;
  if (!body.is_object() && !body.is_array()) return error("--event: a CloudEvent is a JSON object (a batch an array)");
  const auto text = body.dump();
  auto reply = send(ep, "POST", "/", &text, std::chrono::seconds(10),
                    body.is_array() ? codec::kBatchJson : codec::kStructuredJson);
  if (!reply) return error(reply.error().message);
  if (reply->status < 200 || reply->status >= 300) return server_error(*reply);
  if (body.is_array()) std::cout << "published " << body.size() << " events\n";
  else std::cout << "published " << body.value("id", "") << "\n";
  return kOk;
}

int tail(const Endpoint& ep, Args& args) {
  int status = kError;
  bool missing = false;
  auto types = all_options(args, "--type", missing);
  auto listen = args.option("--listen", missing).value_or("127.0.0.1:0");
  auto count_text = args.option("--count", missing);
  if (missing) return usage_error("an option of tail needs a value");
  std::optional<json> filters;
  if (auto f = args.option("--filters", missing)) {
    auto parsed = load_json("--filters", *f);
    if (!parsed) return error(parsed.error().message);
    filters = parsed->is_object() ? json::array({*parsed}) : *parsed;
  }
  if (unexpected(args, status)) return status;
  std::uint64_t count = 0;
  if (count_text) {
    auto [end, ec] = std::from_chars(count_text->data(), count_text->data() + count_text->size(), count);
    if (ec != std::errc{} || end != count_text->data() + count_text->size() || count == 0)
      return usage_error("--count must be a positive integer, got '" + *count_text + "'");
  }
  const auto colon = listen.rfind(':');
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(listen.substr(0, colon == std::string::npos ? 0 : colon), ec);
  unsigned port = 0;
  if (colon == std::string::npos || ec ||
      std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port).ec != std::errc{} ||
      port > 65535)
    return usage_error("--listen must be IP:PORT (the daemon delivers there), got '" + listen + "'");

  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint at(address, static_cast<std::uint16_t>(port));
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return error("cannot listen on " + listen + ": " + ec.message());
  const auto local = acceptor.local_endpoint();
  const bool v6 = local.address().is_v6();
  json sub = {{"sink", "http://" + (v6 ? "[" + local.address().to_string() + "]" : local.address().to_string()) +
                           ":" + std::to_string(local.port()) + "/"}};
  if (!types.empty()) sub["types"] = types;
  if (filters) sub["filters"] = *filters;
  auto created = call(ep, "POST", "/subscriptions", &sub, status);
  if (!created) return status;
  const auto id = created->value("id", "");
  std::cerr << "evmeshctl: tailing with subscription " << id << " (Ctrl-C to stop)" << std::endl;

  std::uint64_t seen = 0;
  auto on_event = [&] {
    if (count && ++seen >= count) io.stop();
  };
  std::function<void()> do_accept = [&] {
    acceptor.async_accept([&](beast::error_code aec, tcp::socket socket) {
      if (aec) return;
      std::make_shared<TailSession>(std::move(socket), on_event)->do_read();
      do_accept();
    });
  };
  do_accept();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) { io.stop(); });
  io.run();
  // Deliveries stop with the subscription; a failed delete leaves it for the operator.
  int ignored = kError;
  if (!call(ep, "DELETE", id_path(id), nullptr, ignored)) return ignored;
  return kOk;
}

int schemas(const Endpoint& ep, Args& args) {
  int status = kError;
  auto verb = args.next();
  if (!verb) return usage_error("schemas needs list, get or register");
  std::optional<json> reply;
  if (*verb == "list") {
    if (unexpected(args, status)) return status;
    reply = call(ep, "GET", "/admin/schemas", nullptr, status);
  } else if (*verb == "get") {
    auto type = args.next();
    if (!type) return usage_error("schemas get needs a TYPE");
    auto version = args.next();
    if (unexpected(args, status)) return status;
    auto path = id_path(*type, "/admin/schemas/");
    if (version) path += "/versions/" + id_path(*version, "");
    reply = call(ep, "GET", path, nullptr, status);
  } else if (*verb == "register") {
    auto source = args.next();
    if (!source) return usage_error("schemas register needs a FILE or JSON");
    if (unexpected(args, status)) return status;
    auto body = load_json("register", *source);
    if (!body) return error(body.error().message);
    reply = call(ep, "POST", "/admin/schemas", &*body, status);
  } else {
    return usage_error("unknown schemas command '" + *verb + "'");
  }
  if (!reply) return status;
  std::cout << reply->dump(2) << "\n";
  return kOk;
}

int config(Args& args) {
  auto verb = args.next();
  if (verb != "validate") return usage_error("config: the command is 'config validate FILE'");
  control::Overrides overrides;
  bool missing = false;
  while (auto kv = args.option("--set", missing)) {
    const auto eq = kv->find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("--set expects key=value, got '" + *kv + "'");
    overrides.emplace_back(kv->substr(0, eq), kv->substr(eq + 1));
  }
  if (missing) return usage_error("--set needs key=value");
  auto file = args.next();
  if (!file) return usage_error("config validate needs a FILE");
  int status = kError;
  if (unexpected(args, status)) return status;
  control::Config config;
  try {
    config = control::load_config(*file, overrides, environ);
  } catch (const control::ConfigError& e) {
    return error(e.what());
  }
  // As evmeshd --check-config: the key file and schema directory load with the pipeline.
  if (auto ok = control::ControlPlane().apply(config); !ok) return error(*file + ": " + ok.error().message);
  std::cout << *file << ": valid (" << config.subscriptions.size() << " subscriptions, " << config.acl.size()
            << " ACL entries, " << config.policies.size() << " policies)\n";
  return kOk;
}

}  // namespace evmesh::cli
