#include "app/metrics.hpp"

#include <array>
#include <cmath>
#include <sstream>

#include "app/version.hpp"

namespace urlpoll {

namespace {

// A label value, escaped as the exposition format wants.
std::string quoted(const std::string& x) {
  std::string out = "\"";
  for (char c : x) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

double seconds(caf::timespan x) {
  return std::chrono::duration<double>(x).count();
}

double epoch_seconds(caf::timestamp x) {
  return std::chrono::duration<double>(x.time_since_epoch()).count();
}

class exposition {
public:
  exposition() { out_.precision(15); }

  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' '
         << type << '\n';
  }

  template <class T>
  void sample(const std::string& name, const std::string& labels, T value) {
    out_ << name;
    if (!labels.empty())
      out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }

  std::string str() const { return out_.str(); }

private:
  std::ostringstream out_;
};

std::string target_label(const target_status& t) {
  return "target=" + quoted(t.name.empty() ? t.url : t.name);
}

} // namespace

std::string to_prometheus(const snapshot& x) {
  exposition m;
  m.family("urlpoll_build_info", "gauge",
           "urlpoll's version and the libraries it runs on; always 1.");
  m.sample("urlpoll_build_info",
           "version=" + quoted(urlpoll_version()) + ",caf=" +
             quoted(caf_version()) + ",libcurl=" + quoted(libcurl_version()),
           1);
  m.family("urlpoll_start_time_seconds", "gauge",
           "When urlpoll started, in seconds since the Unix epoch.");
  m.sample("urlpoll_start_time_seconds", "", epoch_seconds(x.started));
  // The names Prometheus itself uses for its own configuration.
  m.family("urlpoll_config_last_reload_successful", "gauge",
           "Whether the last configuration reload succeeded (1 at start-up).");
  m.sample("urlpoll_config_last_reload_successful", "",
           x.config.last_ok ? 1 : 0);
  m.family("urlpoll_config_last_reload_success_timestamp_seconds", "gauge",
           "When the configuration was last loaded successfully, in seconds "
           "since the Unix epoch.");
  m.sample("urlpoll_config_last_reload_success_timestamp_seconds", "",
           epoch_seconds(x.config.last_success));
  m.family("urlpoll_config_reloads_total", "counter",
           "Configuration reloads tried since start, by outcome.");
  m.sample("urlpoll_config_reloads_total", "outcome=\"success\"",
           x.config.reloads - x.config.failed_reloads);
  m.sample("urlpoll_config_reloads_total", "outcome=\"failure\"",
           x.config.failed_reloads);
  if (!x.history.role.empty()) {
    m.family("urlpoll_leader", "gauge",
             "A coordinator of a pair: 1 while it leads (polls and alerts), 0 "
             "while it stands by.");
    m.sample("urlpoll_leader", "", x.history.role == "leader" ? 1 : 0);
  }
  if (x.history.enabled) {
    auto& h = x.history;
    m.family("urlpoll_history_writing", "gauge",
             "1 while the history database takes writes, 0 while they fail "
             "(what is not written waits in memory).");
    m.sample("urlpoll_history_writing", "", h.failing ? 0 : 1);
    m.family("urlpoll_history_write_errors_total", "counter",
             "Writes to the history database that failed.");
    m.sample("urlpoll_history_write_errors_total", "", h.write_errors);
    m.family("urlpoll_history_flushes_total", "counter",
             "Flushes of the hourly figures and open states.");
    m.sample("urlpoll_history_flushes_total", "", h.flushes);
    m.family("urlpoll_history_flush_duration_seconds", "gauge",
             "How long the last flush took.");
    m.sample("urlpoll_history_flush_duration_seconds", "",
             h.last_flush_seconds);
    m.family("urlpoll_history_database_bytes", "gauge",
             "The size of the history database and its write-ahead log.");
    m.sample("urlpoll_history_database_bytes", "",
             static_cast<double>(h.size_bytes));
    m.family("urlpoll_history_pending_transitions", "gauge",
             "Transitions waiting in memory for the database.");
    m.sample("urlpoll_history_pending_transitions", "",
             static_cast<double>(h.pending));
  }
  m.family("urlpoll_targets", "gauge",
           "Targets by state (flapping targets count in their state too).");
  for (auto [state, n] :
       {std::pair{"up", x.counts.up}, std::pair{"degraded", x.counts.degraded},
        std::pair{"down", x.counts.down},
        std::pair{"unknown", x.counts.unknown}})
    m.sample("urlpoll_targets", "state=" + quoted(state), n);
  m.family("urlpoll_targets_flapping", "gauge",
           "Targets that change state too often to alert on.");
  m.sample("urlpoll_targets_flapping", "", x.counts.flapping);
  m.family("urlpoll_poll_lateness_seconds", "histogram",
           "How much later than due polls started.");
  uint64_t cumulative = 0;
  auto& bounds = lateness_buckets();
  auto& counts = x.lateness_seconds.counts;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    std::ostringstream le;
    le << bounds[i];
    m.sample("urlpoll_poll_lateness_seconds_bucket", "le=" + quoted(le.str()),
             cumulative);
  }
  m.sample("urlpoll_poll_lateness_seconds_bucket", "le=\"+Inf\"",
           x.lateness_seconds.count);
  m.sample("urlpoll_poll_lateness_seconds_sum", "",
           x.lateness_seconds.sum_seconds);
  m.sample("urlpoll_poll_lateness_seconds_count", "", x.lateness_seconds.count);
  m.family("urlpoll_nodes_connected", "gauge",
           "Poller nodes connected; 1 for a standalone urlpoll.");
  size_t connected = 0;
  for (auto& n : x.nodes)
    connected += n.connected ? 1 : 0;
  m.sample("urlpoll_nodes_connected", "", x.nodes.empty() ? 1 : connected);
  if (!x.nodes.empty()) {
    m.family("urlpoll_node_polls_total", "counter",
             "Poll results from each poller node.");
    for (auto& n : x.nodes)
      m.sample("urlpoll_node_polls_total", "node=" + quoted(n.name), n.polls);
  }
  m.family("urlpoll_alert_deliveries_total", "counter",
           "Webhook deliveries, by alerter and result.");
  for (auto& a : x.alerts) {
    m.sample("urlpoll_alert_deliveries_total",
             "alerter=" + quoted(a.alerter) + ",result=\"delivered\"",
             a.delivered);
    m.sample("urlpoll_alert_deliveries_total",
             "alerter=" + quoted(a.alerter) + ",result=\"failed\"", a.failed);
  }
  return m.str();
}

namespace {

enum family_index : size_t {
  up,
  state,
  flapping,
  duration,
  code,
  polls,
  failures,
  changes,
  cert,
  family_count
};

} // namespace

struct target_metrics::impl {
  // One exposition per family: the format wants a family's lines together.
  std::array<exposition, family_count> families;
};

target_metrics::target_metrics() : impl_(new impl) {
  auto& families_ = impl_->families;
  families_[up].family(
    "urlpoll_up", "gauge",
    "1 when the target is up or degraded, 0 when down or unknown.");
  families_[state].family(
    "urlpoll_state", "gauge",
    "1 for the target's current state, 0 for the others.");
  families_[flapping].family(
    "urlpoll_flapping", "gauge",
    "1 while the target changes state too often to alert on.");
  families_[duration].family(
    "urlpoll_probe_duration_seconds", "gauge",
    "Where the last poll's time went, each phase counted from its start.");
  families_[code].family("urlpoll_http_status_code", "gauge",
                         "The last HTTP status code; 0 without an HTTP "
                         "answer.");
  families_[polls].family("urlpoll_polls_total", "counter",
                          "Polls of the target.");
  families_[failures].family("urlpoll_failures_total", "counter",
                             "Polls of the target whose answer was down.");
  families_[changes].family("urlpoll_state_changes_total", "counter",
                            "Changes of the target's state.");
  families_[cert].family("urlpoll_cert_expiry_timestamp_seconds", "gauge",
                         "When the target's TLS certificate expires, in "
                         "seconds since the Unix epoch.");
}

target_metrics::~target_metrics() = default;

void target_metrics::add(const std::vector<target_status>& targets) {
  auto& f = impl_->families;
  for (auto& t : targets) {
    auto target = target_label(t);
    f[up].sample(
      "urlpoll_up", target + ",url=" + quoted(t.url),
      t.state == target_state::up || t.state == target_state::degraded ? 1 : 0);
    for (auto s : {target_state::unknown, target_state::up,
                   target_state::degraded, target_state::down})
      f[state].sample("urlpoll_state",
                      target + ",state=" + quoted(to_string(s)),
                      t.state == s ? 1 : 0);
    f[flapping].sample("urlpoll_flapping", target, t.flapping ? 1 : 0);
    if (t.polls > 0) {
      auto phase = [&](const char* name, caf::timespan d) {
        f[duration].sample("urlpoll_probe_duration_seconds",
                           target + ",phase=" + quoted(name), seconds(d));
      };
      phase("dns", t.timings.dns);
      phase("connect", t.timings.connect);
      phase("tls", t.timings.tls);
      phase("first_byte", t.timings.first_byte);
      phase("total", t.latency);
      f[code].sample("urlpoll_http_status_code", target, t.code);
    }
    f[polls].sample("urlpoll_polls_total", target, t.polls);
    f[failures].sample("urlpoll_failures_total", target, t.failures);
    f[changes].sample("urlpoll_state_changes_total", target, t.state_changes);
    if (t.cert_expiry.time_since_epoch().count() != 0)
      f[cert].sample("urlpoll_cert_expiry_timestamp_seconds", target,
                     static_cast<int64_t>(epoch_seconds(t.cert_expiry)));
  }
}

std::string target_metrics::str() const {
  std::string out;
  for (auto& family : impl_->families)
    out += family.str();
  return out;
}

std::string to_prometheus(const snapshot& x, bool per_target) {
  auto out = to_prometheus(x);
  if (per_target) {
    target_metrics m;
    m.add(x.targets);
    out += m.str();
  }
  return out;
}

} // namespace urlpoll
