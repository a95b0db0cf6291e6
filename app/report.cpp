#include "app/report.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/transfer_outcome.hpp"
#include "actors/vantage.hpp"
#include "messages/history.hpp"

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

std::string format_latency(const target_status& x) {
  if (x.polls == 0 || x.code == 0)
    return "-";
  return duration_text(x.latency);
}

} // namespace

namespace {

// Appends `x` as exactly `digits` decimal digits.
void append_digits(std::string& out, int64_t x, int digits) {
  char buf[20];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + x % 10);
    x /= 10;
  }
  out.append(buf, static_cast<size_t>(digits));
}

// The civil date of a day since 1970-01-01 (Howard Hinnant's
// civil_from_days): no gmtime_r, whose time zone lock and conversion cost
// most of writing a status document's times.
void append_date(std::string& out, int64_t days) {
  days += 719468;
  auto era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = days - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto day = doy - (153 * mp + 2) / 5 + 1;
  auto month = mp < 10 ? mp + 3 : mp - 9;
  auto year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  append_digits(out, year, 4);
  out += '-';
  append_digits(out, month, 2);
  out += '-';
  append_digits(out, day, 2);
}

} // namespace

void append_rfc3339(std::string& out, caf::timestamp x) {
  auto ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(x.time_since_epoch())
      .count();
  constexpr int64_t ms_per_day = 86'400'000;
  auto days = ms / ms_per_day;
  auto in_day = ms % ms_per_day;
  if (in_day < 0) {
    in_day += ms_per_day;
    --days;
  }
  append_date(out, days);
  out += 'T';
  append_digits(out, in_day / 3'600'000, 2);
  out += ':';
  append_digits(out, in_day / 60'000 % 60, 2);
  out += ':';
  append_digits(out, in_day / 1000 % 60, 2);
  out += '.';
  append_digits(out, in_day % 1000, 3);
  out += 'Z';
}

std::string rfc3339(caf::timestamp x) {
  std::string out;
  append_rfc3339(out, x);
  return out;
}

namespace {

// The JSON of one target, written straight into `out`: the status document
// of 100,000 targets is written every status-interval, and building a
// nlohmann tree of it first cost most of the printing (bench/README.md).
// to_json(target_status) parses this back, so there is one writer.
class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {
    // nop
  }

  json_writer& key(const char* name) {
    out_ += first_ ? "\"" : ",\"";
    out_ += name;
    out_ += "\":";
    first_ = false;
    return *this;
  }

  void string(const std::string& x) {
    out_ += '"';
    // Runs of characters that need no escape go in one append.
    size_t plain = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      auto c = static_cast<unsigned char>(x[i]);
      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      out_.append(x, plain, i - plain);
      plain = i + 1;
      if (c == '"') {
        out_ += "\\\"";
      } else if (c == '\\') {
        out_ += "\\\\";
      } else {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out_ += buf;
      }
    }
    out_.append(x, plain, std::string::npos);
    out_ += '"';
  }

  void null() { out_ += "null"; }

  void boolean(bool x) { out_ += x ? "true" : "false"; }

  void integer(int64_t x) { out_ += std::to_string(x); }

  // Milliseconds with microsecond precision: "2.068", "0.5", "12"; in
  // whole numbers, as milliseconds() rounds.
  void millis(caf::timespan x) {
    auto us = x.count() / 1000;
    if (us < 0) {
      out_ += '-';
      us = -us;
    }
    out_ += std::to_string(us / 1000);
    auto fraction = us % 1000;
    if (fraction == 0)
      return;
    out_ += '.';
    int digits = 3;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    append_digits(out_, fraction, digits);
  }

  void time(caf::timestamp x) {
    if (never(x)) {
      null();
      return;
    }
    out_ += '"';
    append_rfc3339(out_, x);
    out_ += '"';
  }

  void raw(const std::string& json) { out_ += json; }

  // A ratio to six places, or null when negative (no data).
  void ratio(double x) {
    if (x < 0) {
      null();
      return;
    }
    char buf[32];
    // As printf's "%.6f", without its locale and stream machinery.
    auto end =
      std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed, 6).ptr;
    auto n = end - buf;
    while (n > 1 && buf[n - 1] == '0')
      --n;
    if (n > 1 && buf[n - 1] == '.')
      --n;
    out_.append(buf, static_cast<size_t>(n));
  }

private:
  std::string& out_;
  bool first_ = true;
};

void write_target(std::string& out, const target_status& t, caf::timestamp now,
                  const std::vector<float>* days = nullptr) {
  auto polled = t.polls > 0;
  json_writer w{out};
  out += '{';
  w.key("name").string(t.name.empty() ? t.url : t.name);
  w.key("url").string(t.url);
  w.key("state").string(to_string(t.state));
  w.key("since").time(t.last_change);
  w.key("flapping").boolean(t.flapping);
  if (polled)
    w.key("status").string(t.status);
  else
    w.key("status").null();
  if (t.code != 0)
    w.key("code").integer(t.code);
  else
    w.key("code").null();
  if (polled)
    w.key("latency_ms").millis(t.latency);
  else
    w.key("latency_ms").null();
  if (polled) {
    w.key("timings");
    out += '{';
    json_writer phases{out};
    auto phase = [&](const char* name, caf::timespan x) {
      if (x.count() > 0)
        phases.key(name).millis(x);
      else
        phases.key(name).null();
    };
    phase("dns_ms", t.timings.dns);
    phase("connect_ms", t.timings.connect);
    phase("tls_ms", t.timings.tls);
    phase("first_byte_ms", t.timings.first_byte);
    phases.key("total_ms").millis(t.latency);
    out += '}';
  } else {
    w.key("timings").null();
  }
  w.key("polls").integer(static_cast<int64_t>(t.polls));
  w.key("failures").integer(static_cast<int64_t>(t.failures));
  w.key("consecutive_failures").integer(t.consecutive_failures);
  w.key("consecutive_successes").integer(t.consecutive_successes);
  w.key("last_poll").time(t.last_poll);
  w.key("method").string(to_string(t.method));
  w.key("head_refused").boolean(t.head_refused);
  w.key("cert_expires").time(t.cert_expiry);
  if (!never(t.cert_expiry))
    w.key("cert_days_left").integer(days_until(t.cert_expiry, now));
  else
    w.key("cert_days_left").null();
  if (t.node.empty())
    w.key("node").null();
  else
    w.key("node").string(t.node);
  w.key("uptime");
  out += '{';
  json_writer windows{out};
  for (size_t i = 0; i < t.uptime.size(); ++i)
    windows.key(uptime_window_names[i]).ratio(t.uptime[i]);
  out += '}';
  if (days != nullptr) {
    w.key("days");
    out += '[';
    for (size_t i = 0; i < days->size(); ++i) {
      if (i > 0)
        out += ',';
      json_writer{out}.ratio((*days)[i]);
    }
    out += ']';
  }
  if (!t.views.empty()) {
    w.key("quorum").integer(t.quorum);
    w.key("views").raw(views_json(t.views).dump());
  }
  out += '}';
}

nlohmann::ordered_json history_json(const history_status& x) {
  if (!x.enabled)
    return nullptr;
  auto or_null = [](const std::string& s) {
    return s.empty() ? nlohmann::ordered_json(nullptr)
                     : nlohmann::ordered_json(s);
  };
  nlohmann::ordered_json out = {
    {"path", x.path},
    {"writing", !x.failing},
    {"write_errors", x.write_errors},
    {"last_error", or_null(x.last_error)},
    {"size_bytes", x.size_bytes},
  };
  // A coordinator pair: this one's role, and who leads.
  if (!x.role.empty()) {
    out["role"] = x.role;
    out["leader"] = or_null(x.leader);
    out["leader_api"] = or_null(x.leader_api);
  }
  return out;
}

} // namespace

std::string json_head(const snapshot& x) {
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
  nlohmann::ordered_json head{
    {"time", rfc3339(x.time)},
    {"lateness",
     {
       {"p50_ms", milliseconds(x.lateness.p50)},
       {"p99_ms", milliseconds(x.lateness.p99)},
       {"max_ms", milliseconds(x.lateness.max)},
       {"samples", x.lateness.samples},
     }},
    {"nodes", std::move(nodes)},
    {"config",
     {
       {"reloads", x.config.reloads},
       {"last_reload", time_or_null(x.config.last_time)},
       {"last_reload_successful", x.config.last_ok},
       {"last_success", time_or_null(x.config.last_success)},
       {"errors", x.config.last_errors},
     }},
    {"history", history_json(x.history)},
    {"counts",
     {
       {"targets", x.counts.targets},
       {"up", x.counts.up},
       {"degraded", x.counts.degraded},
       {"down", x.counts.down},
       {"unknown", x.counts.unknown},
       {"flapping", x.counts.flapping},
     }},
    {"page",
     {
       {"matched", x.page.matched},
       {"offset", x.page.offset},
       {"limit", x.page.limit < 0 ? nlohmann::ordered_json(nullptr)
                                  : nlohmann::ordered_json(x.page.limit)},
     }},
  };
  auto out = head.dump();
  out.pop_back(); // the closing '}'
  out += ",\"targets\":[";
  return out;
}

void append_json_targets(std::string& out,
                         const std::vector<target_status>& targets,
                         caf::timestamp now, bool first,
                         const std::vector<std::vector<float>>* days) {
  out.reserve(out.size() + targets.size() * 600);
  for (size_t i = 0; i < targets.size(); ++i) {
    if (i > 0 || !first)
      out += ',';
    write_target(out, targets[i], now,
                 days != nullptr && i < days->size() ? &(*days)[i] : nullptr);
  }
}

namespace {

// The snapshot document as one line, with each target's `days` when given.
std::string snapshot_json(const snapshot& x,
                          const std::vector<std::vector<float>>* days) {
  auto out = json_head(x);
  append_json_targets(out, x.targets, x.time, true, days);
  out += json_tail;
  return out;
}

} // namespace

nlohmann::ordered_json to_json(const target_status& t, caf::timestamp now) {
  std::string out;
  write_target(out, t, now);
  return nlohmann::ordered_json::parse(out);
}

nlohmann::ordered_json to_json(const snapshot& x) {
  return nlohmann::ordered_json::parse(snapshot_json(x, nullptr));
}

std::string render_page(const snapshot& x,
                        const std::vector<std::vector<float>>& days) {
  return snapshot_json(x, days.empty() ? nullptr : &days) + "\n";
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
  size_t name_width = 6;
  auto shown = [](const target_status& t) -> const std::string& {
    return t.name.empty() ? t.url : t.name;
  };
  for (auto& t : x.targets)
    name_width = std::max(name_width, std::min<size_t>(shown(t).size(), 60));
  auto& n = x.counts;
  std::ostringstream out;
  out << rfc3339(x.time) << "  " << n.targets << " targets: " << n.up << " up, "
      << n.degraded << " degraded, " << n.down << " down, " << n.unknown
      << " unknown";
  if (n.flapping > 0)
    out << ", " << n.flapping << " flapping";
  out << '\n';
  if (x.history.role == "standby")
    out << "  standby: "
        << (x.history.leader.empty() ? std::string{"no leader known yet"}
                                     : x.history.leader + " leads")
        << "; these are the states it last wrote\n";
  if (!x.config.last_ok)
    out << "  the configuration reload of " << rfc3339(x.config.last_time)
        << " was refused: the previous configuration keeps running\n";
  if (!x.targets.empty())
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
  auto listed = x.page.offset + x.targets.size();
  if (x.page.matched > listed)
    out << "  and " << x.page.matched - listed << " more not up (GET "
        << "/api/v1/status?state=not-up&order=problems lists them all)\n";
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
    return snapshot_json(x, nullptr) + "\n";
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

status_query log_query(const state_counts& counts, size_t max_lines) {
  status_query q;
  q.problems_first = true;
  q.limit = static_cast<int64_t>(max_lines);
  if (counts.targets > max_lines)
    q.state = "not-up";
  return q;
}

namespace {

// One answer of the state monitor, or why there is none.
caf::expected<snapshot> ask_page(caf::scoped_actor& self,
                                 const state_monitor_actor& monitor,
                                 status_query q, caf::timespan timeout) {
  caf::expected<snapshot> result{snapshot{}};
  self->request(monitor, timeout, caf::get_atom_v, std::move(q))
    .receive([&](snapshot& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace

std::optional<std::string>
for_each_slice(caf::actor_system& sys, const state_monitor_actor& monitor,
               const std::vector<target_id>& ids, caf::timespan timeout,
               const std::function<bool(std::vector<target_status>&)>& f) {
  caf::scoped_actor self{sys};
  for (size_t i = 0; i < ids.size(); i += stream_page_size) {
    status_query q;
    auto end = std::min(ids.size(), i + stream_page_size);
    q.ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(i),
                 ids.begin() + static_cast<std::ptrdiff_t>(end));
    auto part = ask_page(self, monitor, std::move(q), timeout);
    if (!part)
      return sys.render(part.error());
    if (!f(part->targets))
      break;
  }
  return std::nullopt;
}

caf::expected<snapshot> write_status(caf::actor_system& sys,
                                     const state_monitor_actor& monitor,
                                     status_format format, size_t max_lines,
                                     caf::timespan timeout, std::ostream& out) {
  caf::scoped_actor self{sys};
  if (format == status_format::text) {
    status_query count;
    count.limit = 0;
    auto head = ask_page(self, monitor, count, timeout);
    if (!head)
      return head;
    auto page =
      ask_page(self, monitor, log_query(head->counts, max_lines), timeout);
    if (page)
      out << to_text(*page) << std::flush;
    return page;
  }
  status_query all;
  all.ids_only = true;
  auto head = ask_page(self, monitor, all, timeout);
  if (!head)
    return head;
  out << json_head(*head);
  bool first = true;
  auto problem = for_each_slice(
    sys, monitor, head->ids, timeout, [&](std::vector<target_status>& part) {
      std::string chunk;
      append_json_targets(chunk, part, head->time, first);
      first = false;
      out << chunk;
      return true;
    });
  // A document cut short still ends as JSON.
  out << json_tail << '\n' << std::flush;
  if (problem)
    return caf::make_error(caf::sec::request_timeout, *problem);
  return head;
}

} // namespace urlpoll

namespace urlpoll {

namespace {

struct printer_state {
  status_format format = status_format::text;
  /// The text log's most target lines.
  size_t max_lines = 50;
  /// When the last status was written.
  caf::timestamp written;
  /// The events file, opened for appending; stdout for "stdout".
  std::string events;
  std::shared_ptr<std::ostream> sink;
  /// Log lines above this priority are not written.
  log_level level = log_level::info;
  /// A status write failed: said once.
  bool stdout_closed = false;
  /// stderr is the journal: each line gets its priority prefix.
  bool journal = stderr_is_journal();
  static inline const char* name = "printer";

  // Opens `path` again even when it is the same: logrotate may have moved
  // the file away.
  void open(std::string path) {
    events = std::move(path);
    sink.reset();
    if (events == "stdout")
      sink = std::shared_ptr<std::ostream>(&std::cout, [](std::ostream*) {});
    else if (!events.empty())
      sink = std::make_shared<std::ofstream>(events, std::ios::app);
  }
};

caf::behavior printer(caf::stateful_actor<printer_state>* self,
                      status_format format, size_t max_lines,
                      std::string events, log_level level) {
  self->state.format = format;
  self->state.max_lines = max_lines;
  self->state.open(std::move(events));
  self->state.level = level;
  auto write = [=](const log_line& x) {
    if (x.level <= self->state.level)
      std::cerr << render_log(x, self->state.journal) << std::flush;
  };
  auto write_now =
    [=](const state_monitor_actor& monitor) -> caf::expected<snapshot> {
    auto& st = self->state;
    auto done = write_status(self->system(), monitor, st.format, st.max_lines,
                             status_page_timeout, std::cout);
    st.written = caf::make_timestamp();
    if (!done)
      write(log_line{log_level::warning,
                     "urlpoll: the status is incomplete: the state monitor "
                     "did not answer (" +
                       self->system().render(done.error()) + ")"});
    if (!std::cout && !st.stdout_closed) {
      st.stdout_closed = true;
      write(log_line{log_level::error,
                     "urlpoll: stdout is closed (" +
                       std::string{std::strerror(errno)} +
                       "): the status is no longer printed; monitoring, "
                       "alerts, the HTTP API and the history go on (stop "
                       "urlpoll with SIGTERM or Ctrl-C)"});
    }
    return done;
  };
  return {
    [=](const snapshot& head, const state_monitor_actor& monitor) {
      // Asked while the last status was still being written: that one is
      // as fresh.
      if (head.time >= self->state.written)
        write_now(monitor);
    },
    // The final status, at shutdown: answered with its head once written.
    [=](print_atom, const state_monitor_actor& monitor) {
      return write_now(monitor);
    },
    [=](const target_status& x) {
      auto line = failure_line(x);
      if (!line.empty() && line.back() == '\n')
        line.pop_back();
      write(log_line{log_level::warning, std::move(line)});
    },
    [=](const transition& x) {
      if (auto& sink = self->state.sink)
        *sink << to_json(x).dump() << std::endl;
    },
    [=](const log_line& x) { write(x); },
    [=](const std::string& line) {
      write(log_line{log_level::info, line});
    },
    [=](configure_atom, status_format format, size_t max_lines,
        std::string& events, log_level level) {
      self->state.format = format;
      self->state.max_lines = max_lines;
      self->state.open(std::move(events));
      self->state.level = level;
    },
  };
}

} // namespace

monitor_output to_printer(caf::actor printer) {
  monitor_output output;
  output.status = [printer](snapshot head, state_monitor_actor monitor) {
    caf::anon_send(printer, std::move(head), std::move(monitor));
  };
  output.failure = [printer](const target_status& x) {
    caf::anon_send(printer, x);
  };
  output.transition = [printer](const transition& x) {
    caf::anon_send(printer, x);
  };
  return output;
}

caf::actor spawn_printer(caf::actor_system& sys, status_format format,
                         size_t max_lines, std::string events,
                         log_level level) {
  // With arguments, not captures: CAF 0.17 dereferences a null argument
  // tuple for actors spawned without one (UBSan reports it).
  return sys.spawn<caf::detached>(printer, format, max_lines, std::move(events),
                                  level);
}

} // namespace urlpoll
