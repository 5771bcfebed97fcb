// The `delivery` object (our extension of the Subscriptions API object) and the
// duration syntax shared by the API and the YAML config.
//
//   "delivery": {"mode": "structured", "maxattempts": 5, "maxage": "1h",
//                "initialbackoff": "200ms", "maxbackoff": "1m", "timeout": 2500,
//                "concurrency": 4, "queuecapacity": 1000, "deadlettersink": null}
//
// Durations are an integer of milliseconds or a string <digits><unit> with unit
// ms, s, m, h or d ("250ms", "10s", "5m", "2h", "1d"). A string without a unit is
// refused: "10" could mean seconds to one reader and milliseconds to another.
// Anything above kMaxDuration is refused so that adding it to a clock reading can
// never overflow.
#include <algorithm>
#include <charconv>
#include <optional>

#include "evmesh/control/subscription_spec.h"
#include "spec_detail.h"

namespace evmesh::control {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kMaxDuration{3650LL * 24 * 3600 * 1000};  // ten years
constexpr std::size_t kMaxQuoted = 64;

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Longest suffix first so "ms" is not read as "m" + garbage.
constexpr Unit kUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};

std::optional<std::uint64_t> as_unsigned(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  return std::nullopt;
}

}  // namespace

std::optional<milliseconds> parse_duration(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits == s.size()) return std::nullopt;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + digits, n);
  if (ec != std::errc{} || end != s.data() + digits) return std::nullopt;
  const auto suffix = s.substr(digits);
  for (const auto& unit : kUnits) {
    if (suffix != unit.suffix) continue;
    if (n > kMaxDuration.count() / unit.ms) return std::nullopt;
    return milliseconds{n * unit.ms};
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_duration(const json& v) {
  if (v.is_string()) return parse_duration(std::string_view(v.get_ref<const std::string&>()));
  auto n = as_unsigned(v);
  if (!n || *n > static_cast<std::uint64_t>(kMaxDuration.count())) return std::nullopt;
  return milliseconds{static_cast<std::int64_t>(*n)};
}

std::string format_duration(milliseconds d) {
  const auto n = d.count();
  if (n <= 0) return std::to_string(n) + "ms";
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it)
    if (n % it->ms == 0) return std::to_string(n / it->ms) + std::string(it->suffix);
  return std::to_string(n) + "ms";
}

namespace detail {

std::unexpected<Error> invalid(std::string_view pointer, std::string_view what) {
  std::string msg =
      pointer.empty() ? std::string(what) : std::string(pointer) + ": " + std::string(what);
  return fail(Errc::invalid_subscription, std::move(msg), std::string(pointer));
}

std::string quote(std::string_view s) {
  std::size_t cut = s.size();
  if (cut > kMaxQuoted) {
    cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  }
  auto out =
      json(std::string(s.substr(0, cut))).dump(-1, ' ', false, json::error_handler_t::replace);
  if (cut < s.size()) out.insert(out.size() - 1, "...");
  return out;
}

std::string got(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "got " + quote(v.get_ref<const std::string&>());
    case json::value_t::object:
      return "got an object";
    case json::value_t::array:
      return "got an array";
    case json::value_t::null:
      return "got null";
    default:
      return "got " + v.dump();
  }
}

bool pointer_safe(std::string_view name) {
  return !name.empty() && std::ranges::all_of(name, [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '.' && c != '[' && c != ']';
  });
}

std::string join(std::string_view path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string out(path);
  out += '.';
  out += name;
  return out;
}

SinkSpec make_dead_letter(std::string uri, const SinkSpec& sink) {
  SinkSpec dl;
  dl.uri = std::move(uri);
  dl.protocol = "HTTP";
  dl.method = "POST";
  dl.mode = sink.mode;
  dl.timeout = sink.timeout;
  return dl;
}

Result<void> apply_delivery(const json& object, std::string_view path, DeliveryPolicy& policy,
                            SinkSpec& sink) {
  if (object.is_null()) return {};
  if (!object.is_object()) return invalid(path, "must be an object, " + got(object));
  for (const auto& [name, value] : object.items()) {
    if (std::ranges::find(kDeliveryKeys, name) == kDeliveryKeys.end())
      return invalid(pointer_safe(name) ? join(path, name) : std::string(path),
                     "unknown property " + quote(name) +
                         " (known: mode, maxattempts, maxage, initialbackoff, maxbackoff, "
                         "timeout, concurrency, queuecapacity, deadlettersink)");
  }
  auto pointer = [&](std::string_view name) { return join(path, name); };

  auto integer = [&](std::string_view name, std::uint64_t lo, std::uint64_t hi,
                     auto& out) -> Result<void> {
    auto it = object.find(name);
    if (it == object.end()) return {};
    auto n = as_unsigned(*it);
    if (!n || *n < lo || *n > hi)
      return invalid(pointer(name), "must be an integer between " + std::to_string(lo) + " and " +
                                        std::to_string(hi) + ", " + got(*it));
    out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
    return {};
  };
  auto duration = [&](std::string_view name, milliseconds& out) -> Result<void> {
    auto it = object.find(name);
    if (it == object.end()) return {};
    auto d = parse_duration(*it);
    if (!d || d->count() <= 0)
      return invalid(pointer(name),
                     "must be a duration greater than zero and at most 3650d "
                     "(milliseconds, or a string like \"250ms\", \"10s\", \"5m\", "
                     "\"2h\", \"1d\"), " +
                         got(*it));
    out = *d;
    return {};
  };

  if (auto it = object.find("mode"); it != object.end()) {
    if (*it == "binary")
      sink.mode = DeliveryMode::binary;
    else if (*it == "structured")
      sink.mode = DeliveryMode::structured;
    else
      return invalid(pointer("mode"), "must be \"binary\" or \"structured\", " + got(*it));
  }
  Result<void> r;
  if (!(r = integer("maxattempts", 1, UINT32_MAX, policy.retry.max_attempts))) return r;
  if (!(r = duration("maxage", policy.retry.max_age))) return r;
  if (!(r = duration("initialbackoff", policy.retry.initial_backoff))) return r;
  if (!(r = duration("maxbackoff", policy.retry.max_backoff))) return r;
  if (!(r = duration("timeout", sink.timeout))) return r;
  if (!(r = integer("concurrency", 1, kMaxConcurrency, policy.concurrency))) return r;
  if (!(r = integer("queuecapacity", 1, kMaxQueueCapacity, policy.queue_capacity))) return r;

  if (policy.retry.initial_backoff > policy.retry.max_backoff) {
    // Blame the property this object set; the other one is an inherited default.
    const bool initial_here = object.contains("initialbackoff");
    return invalid(pointer(initial_here ? "initialbackoff" : "maxbackoff"),
                   "initialbackoff (" + format_duration(policy.retry.initial_backoff) +
                       ") must not be longer than maxbackoff (" +
                       format_duration(policy.retry.max_backoff) + ")");
  }

  std::optional<std::string> dead_letter_uri;
  if (policy.dead_letter) dead_letter_uri = policy.dead_letter->uri;
  if (auto it = object.find("deadlettersink"); it != object.end()) {
    if (it->is_null() || *it == "") {
      dead_letter_uri.reset();  // explicitly none, even when a default exists
    } else if (!it->is_string() || !valid_uri(it->get_ref<const std::string&>())) {
      return invalid(pointer("deadlettersink"),
                     "must be an absolute URI such as \"http://127.0.0.1:9001/dlq\", or null "
                     "for none, " +
                         got(*it));
    } else {
      dead_letter_uri = it->get<std::string>();
    }
  }
  if (dead_letter_uri)
    policy.dead_letter = make_dead_letter(std::move(*dead_letter_uri), sink);
  else
    policy.dead_letter.reset();
  return {};
}

}  // namespace detail
}  // namespace evmesh::control
