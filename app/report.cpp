#include "app/report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace urlpoll {

namespace {

bool never(caf::timestamp x) {
  return x.time_since_epoch().count() == 0;
}

nlohmann::ordered_json time_or_null(caf::timestamp x) {
  if (never(x))
    return nullptr;
  return rfc3339(x);
}

double milliseconds(caf::timespan x) {
  // Microsecond precision is all a poll's latency can claim.
  return static_cast<double>(x.count() / 1000) / 1000.0;
}

// Each phase from the start of the transfer; null for a phase not reached.
nlohmann::ordered_json timings_json(const target_status& t) {
  auto phase = [](caf::timespan x) {
    return x.count() > 0 ? nlohmann::ordered_json(milliseconds(x))
                         : nlohmann::ordered_json(nullptr);
  };
  return {
    {"dns_ms", phase(t.timings.dns)},
    {"connect_ms", phase(t.timings.connect)},
    {"tls_ms", phase(t.timings.tls)},
    {"first_byte_ms", phase(t.timings.first_byte)},
    {"total_ms", milliseconds(t.latency)},
  };
}

std::string format_latency(const target_status& x) {
  if (x.polls == 0 || x.code == 0)
    return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f ms", milliseconds(x.latency));
  return buf;
}

} // namespace

std::string rfc3339(caf::timestamp x) {
  using namespace std::chrono;
  auto since_epoch = x.time_since_epoch();
  auto secs = duration_cast<seconds>(since_epoch);
  auto millis = duration_cast<std::chrono::milliseconds>(since_epoch - secs);
  if (millis.count() < 0) {
    secs -= seconds{1};
    millis += std::chrono::milliseconds{1000};
  }
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(millis.count()));
  return buf;
}

nlohmann::ordered_json to_json(const snapshot& x) {
  auto targets = nlohmann::ordered_json::array();
  for (auto& t : x.targets) {
    auto polled = t.polls > 0;
    targets.push_back({
      {"url", t.url},
      {"state", to_string(t.state)},
      {"status", polled ? nlohmann::ordered_json(t.status)
                        : nlohmann::ordered_json(nullptr)},
      {"code", t.code != 0 ? nlohmann::ordered_json(t.code)
                           : nlohmann::ordered_json(nullptr)},
      {"latency_ms", polled ? nlohmann::ordered_json(milliseconds(t.latency))
                            : nlohmann::ordered_json(nullptr)},
      {"timings", polled ? timings_json(t) : nlohmann::ordered_json(nullptr)},
      {"polls", t.polls},
      {"failures", t.failures},
      {"consecutive_failures", t.consecutive_failures},
      {"last_poll", time_or_null(t.last_poll)},
      {"last_change", time_or_null(t.last_change)},
    });
  }
  nlohmann::ordered_json lateness = {
    {"p50_ms", milliseconds(x.lateness.p50)},
    {"p99_ms", milliseconds(x.lateness.p99)},
    {"max_ms", milliseconds(x.lateness.max)},
    {"samples", x.lateness.samples},
  };
  return {{"time", rfc3339(x.time)},
          {"lateness", std::move(lateness)},
          {"targets", std::move(targets)}};
}

std::string to_text(const snapshot& x) {
  size_t up = 0;
  size_t down = 0;
  size_t url_width = 3;
  for (auto& t : x.targets) {
    up += t.state == target_state::up ? 1 : 0;
    down += t.state == target_state::down ? 1 : 0;
    url_width = std::max(url_width, std::min<size_t>(t.url.size(), 60));
  }
  std::ostringstream out;
  out << rfc3339(x.time) << "  " << x.targets.size() << " targets: " << up
      << " up, " << down << " down, " << (x.targets.size() - up - down)
      << " unknown\n";
  out << "  " << std::left << std::setw(8) << "STATE"
      << std::setw(static_cast<int>(url_width) + 1) << "URL" << std::right
      << std::setw(10) << "LATENCY" << std::setw(8) << "POLLS" << std::setw(8)
      << "FAILED"
      << "  STATUS\n";
  for (auto& t : x.targets)
    out << "  " << std::left << std::setw(8) << to_string(t.state)
        << std::setw(static_cast<int>(url_width) + 1) << t.url << std::right
        << std::setw(10) << format_latency(t) << std::setw(8) << t.polls
        << std::setw(8) << t.failures << "  "
        << (t.polls > 0 ? t.status : "not polled yet") << '\n';
  return out.str();
}

std::string render(const snapshot& x, status_format format) {
  if (format == status_format::json)
    return to_json(x).dump() + "\n";
  return to_text(x);
}

std::string failure_line(const target_status& x) {
  std::string result = "urlpoll: " + x.url + ": " + x.status;
  if (x.consecutive_failures > 1)
    result +=
      " (" + std::to_string(x.consecutive_failures) + " failures in a row)";
  return result + "\n";
}

} // namespace urlpoll

namespace urlpoll {

namespace {

caf::behavior printer(status_format format) {
  return {
    [format](const snapshot& x) {
      std::cout << render(x, format) << std::flush;
    },
    [](const target_status& x) { std::cerr << failure_line(x) << std::flush; },
  };
}

} // namespace

caf::actor spawn_printer(caf::actor_system& sys, status_format format) {
  // With an argument, not a capture: CAF 0.17 dereferences a null argument
  // tuple for actors spawned without one (UBSan reports it).
  return sys.spawn<caf::detached>(printer, format);
}

} // namespace urlpoll
