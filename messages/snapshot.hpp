// The status of every target at one moment: what the state monitor owns and
// hands out by copy, and what every output of urlpoll shows.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "messages/node.hpp"
#include "messages/poll.hpp"
#include "messages/reload.hpp"

namespace urlpoll {

/// A change of a target's state, or of its flapping flag.
struct transition {
  caf::timestamp time;
  /// The target's name.
  std::string target;
  target_state from = target_state::unknown;
  target_state to = target_state::unknown;
  /// Whether the target flaps, after this change.
  bool flapping = false;
  /// The result that caused it.
  std::string status;
  uint16_t code = 0;
  caf::timespan latency{0};
  std::string node;
  /// Vantage mode: each node's view of the poll that caused it.
  std::vector<node_view> views;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transition& x) {
  return f(caf::meta::type_name("transition"), x.time, x.target, x.from, x.to,
           x.flapping, x.status, x.code, x.latency, x.node, x.views);
}

/// The latest known state of one target.
struct target_status {
  /// The target's name: as configured, or empty for a plain URL (shown by
  /// its URL).
  std::string name;
  /// The URL with any password replaced by ***.
  std::string url;
  /// "200 OK" or the reason it is not up; empty before the first poll.
  std::string status;
  // Small fields together: 100,000 of these must stay small.
  target_state state = target_state::unknown;
  /// Changed state at least flap-threshold times within flap-window.
  bool flapping = false;
  /// The method polls use: HEAD unless configured or HEAD was refused.
  http_method method = http_method::head;
  /// HEAD was answered 405 or 501, so polls use GET.
  bool head_refused = false;
  /// Resumed from the history, and no result since (local to the state
  /// monitor: not inspected).
  bool resumed = false;
  /// The last HTTP status code, 0 when there was none.
  uint16_t code = 0;
  /// Vantage mode: the quorum of the last poll.
  uint16_t quorum = 0;
  caf::timespan latency{0};
  poll_timings timings;
  uint64_t polls = 0;
  uint64_t failures = 0;
  uint32_t consecutive_failures = 0;
  uint32_t consecutive_successes = 0;
  /// State changes since start.
  uint32_t state_changes = 0;
  /// When the last poll started; the epoch when there was none.
  caf::timestamp last_poll;
  /// When `state` last changed; the epoch when it never did.
  caf::timestamp last_change;
  /// When the server's certificate expires; the epoch when unknown.
  caf::timestamp cert_expiry;
  /// The node that made the last poll; empty when standalone.
  std::string node;
  /// Vantage mode: each node's view at the last poll.
  std::vector<node_view> views;
  /// Uptime by time over 1h, 24h, 7d and 30d (from the history); negative:
  /// no data.
  std::array<float, 4> uptime{-1, -1, -1, -1};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, target_status& x) {
  return f(caf::meta::type_name("target_status"), x.url, x.state, x.status,
           x.code, x.latency, x.timings, x.polls, x.failures,
           x.consecutive_failures, x.consecutive_successes, x.state_changes,
           x.last_poll, x.last_change, x.flapping, x.method, x.head_refused,
           x.cert_expiry, x.node, x.views, x.quorum, x.name, x.uptime[0],
           x.uptime[1], x.uptime[2], x.uptime[3]);
}

/// How many targets are in each state (flapping: in any state).
struct state_counts {
  uint64_t targets = 0;
  uint64_t up = 0;
  uint64_t degraded = 0;
  uint64_t down = 0;
  uint64_t unknown = 0;
  uint64_t flapping = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state_counts& x) {
  return f(caf::meta::type_name("state_counts"), x.targets, x.up, x.degraded,
           x.down, x.unknown, x.flapping);
}

/// Which part of the targets a snapshot holds.
struct page_info {
  /// Targets that matched the query (all of them without one).
  uint64_t matched = 0;
  uint64_t offset = 0;
  /// Negative: no limit.
  int64_t limit = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, page_info& x) {
  return f(caf::meta::type_name("page_info"), x.matched, x.offset, x.limit);
}

/// How the history database is doing, for the snapshot and /metrics.
struct history_status {
  bool enabled = false;
  std::string path;
  uint64_t write_errors = 0;
  /// The last write failed (the data waits in memory).
  bool failing = false;
  std::string last_error;
  double last_flush_seconds = 0;
  uint64_t flushes = 0;
  uint64_t size_bytes = 0;
  /// Transitions waiting in memory for the database.
  uint64_t pending = 0;
  /// With a PostgreSQL history: "leader" or "standby"; else empty.
  std::string role;
  /// Who leads (node name, HTTP API), as the database last said.
  std::string leader;
  std::string leader_api;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_status& x) {
  return f(caf::meta::type_name("history_status"), x.enabled, x.path,
           x.write_errors, x.failing, x.last_error, x.last_flush_seconds,
           x.flushes, x.size_bytes, x.pending, x.role, x.leader, x.leader_api);
}

/// How late polls started against their due time, over the recent polls.
struct lateness_summary {
  caf::timespan p50{0};
  caf::timespan p99{0};
  caf::timespan max{0};
  /// How many polls the figures cover.
  uint64_t samples = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lateness_summary& x) {
  return f(caf::meta::type_name("lateness_summary"), x.p50, x.p99, x.max,
           x.samples);
}

/// Every poll's lateness since start, in buckets (a Prometheus histogram).
struct lateness_histogram {
  /// Polls no later than lateness_buckets[i] and later than the one before;
  /// the last entry counts those later than every bucket.
  std::vector<uint64_t> counts;
  double sum_seconds = 0;
  uint64_t count = 0;
};

/// The upper bounds of the lateness buckets, in seconds.
const std::vector<double>& lateness_buckets();

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lateness_histogram& x) {
  return f(caf::meta::type_name("lateness_histogram"), x.counts, x.sum_seconds,
           x.count);
}

/// What one alerter delivered and failed to deliver since start.
struct alert_counter {
  std::string alerter;
  uint64_t delivered = 0;
  uint64_t failed = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_counter& x) {
  return f(caf::meta::type_name("alert_counter"), x.alerter, x.delivered,
           x.failed);
}

/// The status of every target, in configuration order.
struct snapshot {
  caf::timestamp time;
  /// When urlpoll started.
  caf::timestamp started;
  lateness_summary lateness;
  lateness_histogram lateness_seconds;
  /// The poller nodes of a coordinator; empty when standalone.
  std::vector<node_status> nodes;
  std::vector<alert_counter> alerts;
  /// The configuration's last reload.
  reload_status config;
  history_status history;
  /// All targets by state, and which of them `targets` holds.
  state_counts counts;
  page_info page;
  std::vector<target_status> targets;
  /// Instead of `targets`, when asked for (status_query::ids_only): the ids
  /// of the page's targets, to ask for a slice at a time.
  std::vector<target_id> ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("snapshot"), x.time, x.started, x.lateness,
           x.lateness_seconds, x.nodes, x.alerts, x.config, x.history, x.counts,
           x.page, x.targets, x.ids);
}

/// One target with its last transitions, oldest first.
struct target_detail {
  bool found = false;
  target_status status;
  std::vector<transition> transitions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, target_detail& x) {
  return f(caf::meta::type_name("target_detail"), x.found, x.status,
           x.transitions);
}

} // namespace urlpoll
