#include "app/report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
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

// Whole days from `now` until `when`, rounded down; negative once past.
int64_t days_until(caf::timestamp when, caf::timestamp now) {
  auto seconds =
    std::chrono::duration_cast<std::chrono::seconds>(when - now).count();
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
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

static nlohmann::ordered_json views_json(const std::vector<node_view>& views) {
  auto out = nlohmann::ordered_json::array();
  for (auto& v : views)
    out.push_back({
      {"node", v.node},
      {"state", to_string(v.state)},
      {"status", v.status},
      {"code", v.code != 0 ? nlohmann::ordered_json(v.code)
                           : nlohmann::ordered_json(nullptr)},
      {"latency_ms", v.code != 0
                       ? nlohmann::ordered_json(milliseconds(v.latency))
                       : nlohmann::ordered_json(nullptr)},
    });
  return out;
}

nlohmann::ordered_json to_json(const target_status& t, caf::timestamp now) {
  auto polled = t.polls > 0;
  auto cert_known = !never(t.cert_expiry);
  nlohmann::ordered_json out{
    {"name", t.name.empty() ? t.url : t.name},
    {"url", t.url},
    {"state", to_string(t.state)},
    {"since", time_or_null(t.last_change)},
    {"flapping", t.flapping},
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
    {"consecutive_successes", t.consecutive_successes},
    {"last_poll", time_or_null(t.last_poll)},
    {"method", to_string(t.method)},
    {"head_refused", t.head_refused},
    {"cert_expires", time_or_null(t.cert_expiry)},
    {"cert_days_left",
     cert_known ? nlohmann::ordered_json(days_until(t.cert_expiry, now))
                : nlohmann::ordered_json(nullptr)},
    {"node", t.node.empty() ? nlohmann::ordered_json(nullptr)
                            : nlohmann::ordered_json(t.node)},
  };
  if (!t.views.empty()) {
    out["quorum"] = t.quorum;
    out["views"] = views_json(t.views);
  }
  return out;
}

nlohmann::ordered_json to_json(const snapshot& x) {
  auto targets = nlohmann::ordered_json::array();
  for (auto& t : x.targets)
    targets.push_back(to_json(t, x.time));
  auto nodes = nlohmann::ordered_json::array();
  for (auto& n : x.nodes)
    nodes.push_back({
      {"name", n.name},
      {"address", n.address},
      {"connected", n.connected},
      {"since", time_or_null(n.since)},
      {"polls", n.polls},
      {"in_flight", n.in_flight},
      {"lost", n.lost},
      {"problem", n.problem.empty() ? nlohmann::ordered_json(nullptr)
                                    : nlohmann::ordered_json(n.problem)},
    });
  nlohmann::ordered_json lateness = {
    {"p50_ms", milliseconds(x.lateness.p50)},
    {"p99_ms", milliseconds(x.lateness.p99)},
    {"max_ms", milliseconds(x.lateness.max)},
    {"samples", x.lateness.samples},
  };
  return {{"time", rfc3339(x.time)},
          {"lateness", std::move(lateness)},
          {"nodes", std::move(nodes)},
          {"targets", std::move(targets)}};
}

nlohmann::ordered_json to_json(const transition& x) {
  nlohmann::ordered_json out{
    {"time", rfc3339(x.time)},
    {"target", x.target},
    {"from", to_string(x.from)},
    {"to", to_string(x.to)},
    {"flapping", x.flapping},
    {"status", x.status},
    {"code", x.code != 0 ? nlohmann::ordered_json(x.code)
                         : nlohmann::ordered_json(nullptr)},
    {"latency_ms", x.code != 0 ? nlohmann::ordered_json(milliseconds(x.latency))
                               : nlohmann::ordered_json(nullptr)},
    {"node", x.node.empty() ? nlohmann::ordered_json(nullptr)
                            : nlohmann::ordered_json(x.node)},
  };
  if (!x.views.empty())
    out["views"] = views_json(x.views);
  return out;
}

std::string to_text(const snapshot& x) {
  size_t counts[4] = {0, 0, 0, 0};
  size_t name_width = 6;
  auto shown = [](const target_status& t) -> const std::string& {
    return t.name.empty() ? t.url : t.name;
  };
  for (auto& t : x.targets) {
    ++counts[static_cast<size_t>(t.state)];
    name_width = std::max(name_width, std::min<size_t>(shown(t).size(), 60));
  }
  using ts = target_state;
  auto count = [&](ts s) {
    return counts[static_cast<size_t>(s)];
  };
  std::ostringstream out;
  out << rfc3339(x.time) << "  " << x.targets.size()
      << " targets: " << count(ts::up) << " up, " << count(ts::degraded)
      << " degraded, " << count(ts::down) << " down, " << count(ts::unknown)
      << " unknown\n";
  out << "  " << std::left << std::setw(10) << "STATE"
      << std::setw(static_cast<int>(name_width) + 1) << "TARGET" << std::right
      << std::setw(10) << "LATENCY" << std::setw(8) << "POLLS" << std::setw(8)
      << "FAILED"
      << "  STATUS\n";
  for (auto& t : x.targets)
    out << "  " << std::left << std::setw(10) << to_string(t.state)
        << std::setw(static_cast<int>(name_width) + 1) << shown(t) << std::right
        << std::setw(10) << format_latency(t) << std::setw(8) << t.polls
        << std::setw(8) << t.failures << "  "
        << (t.flapping ? "flapping; " : "")
        << (t.polls > 0 ? t.status : "not polled yet") << '\n';
  if (x.nodes.empty())
    return out.str();
  size_t node_width = 4;
  size_t address_width = 7;
  for (auto& n : x.nodes) {
    node_width = std::max(node_width, n.name.size());
    address_width = std::max(address_width, n.address.size());
  }
  out << "  " << std::left << std::setw(static_cast<int>(node_width) + 2)
      << "NODE" << std::setw(static_cast<int>(address_width) + 2) << "ADDRESS"
      << std::setw(14) << "LINK" << std::right << std::setw(8) << "POLLS"
      << std::setw(11) << "IN FLIGHT" << std::setw(7) << "LOST"
      << "  SINCE\n";
  for (auto& n : x.nodes) {
    out << "  " << std::left << std::setw(static_cast<int>(node_width) + 2)
        << n.name << std::setw(static_cast<int>(address_width) + 2) << n.address
        << std::setw(14) << (n.connected ? "connected" : "disconnected")
        << std::right << std::setw(8) << n.polls << std::setw(11) << n.in_flight
        << std::setw(7) << n.lost << "  "
        << (never(n.since) ? "-" : rfc3339(n.since));
    if (!n.problem.empty() && !n.connected)
      out << "  " << n.problem;
    out << '\n';
  }
  return out.str();
}

std::string render(const snapshot& x, status_format format) {
  if (format == status_format::json)
    return to_json(x).dump() + "\n";
  return to_text(x);
}

std::string failure_line(const target_status& x) {
  auto who = x.name.empty() ? x.url : x.name + " (" + x.url + ")";
  std::string result = "urlpoll: " + who + ": " + x.status;
  if (x.consecutive_failures > 1)
    result +=
      " (" + std::to_string(x.consecutive_failures) + " failures in a row)";
  return result + "\n";
}

} // namespace urlpoll

namespace urlpoll {

namespace {

caf::behavior printer(status_format format, std::string events) {
  // The events file, opened for appending; stdout for "stdout".
  std::shared_ptr<std::ostream> sink;
  if (events == "stdout")
    sink = std::shared_ptr<std::ostream>(&std::cout, [](std::ostream*) {});
  else if (!events.empty())
    sink = std::make_shared<std::ofstream>(events, std::ios::app);
  return {
    [format](const snapshot& x) {
      std::cout << render(x, format) << std::flush;
    },
    [](const target_status& x) { std::cerr << failure_line(x) << std::flush; },
    [sink](const transition& x) {
      if (sink)
        *sink << to_json(x).dump() << std::endl;
    },
    [](const std::string& line) { std::cerr << line << std::endl; },
  };
}

} // namespace

caf::actor spawn_printer(caf::actor_system& sys, status_format format,
                         std::string events) {
  // With arguments, not captures: CAF 0.17 dereferences a null argument
  // tuple for actors spawned without one (UBSan reports it).
  return sys.spawn<caf::detached>(printer, format, std::move(events));
}

} // namespace urlpoll
