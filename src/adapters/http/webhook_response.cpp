// Retry-After parsing and status mapping; see webhook_response.h.
//
// HTTP-date forms (RFC 9110 §5.6.7), all in GMT:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"   (two-digit year: 70-99 -> 19xx)
//   asctime      "Sun Nov  6 08:49:37 1994"
#include "adapters/http/webhook_response.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <vector>

namespace evmesh::http {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool all_digits(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> small_number(std::string_view s, std::size_t max_len) {
  if (!all_digits(s) || s.size() > max_len) return std::nullopt;
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    auto start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<unsigned> month_of(std::string_view s) {
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (s == kMonths[i]) return i + 1;
  return std::nullopt;
}

std::optional<seconds> time_of_day(std::string_view s) {  // "08:49:37"
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto h = small_number(s.substr(0, 2), 2), m = small_number(s.substr(3, 2), 2), sec = small_number(s.substr(6, 2), 2);
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return hours(*h) + minutes(*m) + seconds(*sec);
}

std::optional<sys_seconds> assemble(std::string_view day, std::string_view month, std::string_view year,
                                    std::string_view time) {
  auto d = small_number(day, 2);
  auto mo = month_of(month);
  auto y = small_number(year, 4);
  auto t = time_of_day(time);
  if (!d || !mo || !y || !t) return std::nullopt;
  if (year.size() == 2) *y += *y < 70 ? 2000 : 1900;
  else if (year.size() != 4) return std::nullopt;
  year_month_day ymd{std::chrono::year(*y), std::chrono::month(*mo), std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return sys_days(ymd) + *t;
}

}  // namespace

std::optional<sys_seconds> parse_http_date(std::string_view text) {
  if (auto comma = text.find(','); comma != std::string_view::npos) {
    // IMF-fixdate or RFC 850: "<day-name>, " then the date with ' ' or '-' separators.
    std::string rest(text.substr(comma + 1));
    if (text.substr(comma + 1).find('-') != std::string_view::npos) std::ranges::replace(rest, '-', ' ');
    auto parts = split_spaces(rest);
    if (parts.size() != 5 || parts[4] != "GMT") return std::nullopt;
    return assemble(parts[0], parts[1], parts[2], parts[3]);
  }
  auto parts = split_spaces(text);  // asctime: day-name month day time year
  if (parts.size() != 5 || parts[0].size() != 3) return std::nullopt;
  return assemble(parts[2], parts[1], parts[4], parts[3]);
}

std::optional<milliseconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (all_digits(value)) {
    // Clamp absurd values instead of overflowing; the dispatcher applies its own cap.
    std::uint64_t secs = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
    constexpr std::uint64_t kMax = std::numeric_limits<std::int32_t>::max();
    if (ec == std::errc::result_out_of_range || secs > kMax) secs = kMax;
    return duration_cast<milliseconds>(seconds(secs));
  }
  auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  auto delta = duration_cast<milliseconds>(*date - now);
  return std::max(delta, milliseconds(0));
}

DeliveryOutcome outcome_for_status(int status, std::string_view reason, std::string_view retry_after,
                                   system_clock::time_point now) {
  DeliveryOutcome out;
  out.status = status;
  if (status >= 200 && status <= 299) {
    out.kind = DeliveryOutcome::Kind::delivered;
    return out;
  }
  out.error = "HTTP " + std::to_string(status);
  if (!reason.empty()) out.error += " " + std::string(reason.substr(0, 128));
  bool transient = status == 408 || status == 429 || (status >= 500 && status <= 599);
  out.kind = transient ? DeliveryOutcome::Kind::retry : DeliveryOutcome::Kind::permanent;
  if (transient && !retry_after.empty()) out.retry_after = parse_retry_after(retry_after, now);
  return out;
}

}  // namespace evmesh::http
