// What the history actor is sent and what it answers: the state monitor's
// batches, the alerters' open alerts, what a restart resumes, and the
// history API's answers. Local only: none of it crosses a node.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "messages/poll.hpp"
#include "messages/snapshot.hpp"

namespace urlpoll {

/// One poll's answer, as the history counts it: one per poll, sent in
/// batches.
struct poll_sample {
  caf::timestamp time;
  target_id id = 0;
  /// Latency in microseconds; meaningful when `answered`.
  uint32_t latency_us = 0;
  target_state verdict = target_state::unknown;
  bool answered = false;
};

/// What a restart needs of one target: its state and counters, by name.
struct saved_state {
  std::string name;
  target_state state = target_state::unknown;
  bool flapping = false;
  bool head_refused = false;
  uint16_t code = 0;
  caf::timestamp since;
  caf::timestamp last_poll;
  uint64_t polls = 0;
  uint64_t failures = 0;
  uint32_t consecutive_failures = 0;
  uint32_t consecutive_successes = 0;
  uint32_t state_changes = 0;
  std::string status;
};

/// What one alerter last told its webhook about one target (what an open
/// alert is): `told` down or degraded while the alert is open. Without a
/// target: the alerter left the configuration, and its open alerts with it.
struct saved_alert {
  std::string alerter;
  std::string target;
  target_state told = target_state::unknown;
  /// When the target's state began.
  caf::timestamp since;
  /// The transition the alert was about.
  transition last;
};

/// One second of the state monitor's news, for the history actor.
struct history_batch {
  caf::timestamp time;
  /// Targets new to the history since the last batch, by id.
  std::vector<std::pair<target_id, std::string>> named;
  /// Targets that left the configuration.
  std::vector<target_id> gone;
  std::vector<poll_sample> samples;
  /// Every transition, in order (a target that left: its last one).
  std::vector<transition> transitions;
  /// Targets whose state or counters changed (all of them every
  /// history-flush, those with a transition every batch).
  std::vector<saved_state> states;
  /// What the alerters told, after the transitions it was about.
  std::vector<saved_alert> alerts;
};

/// What a restart resumes from the database.
struct history_resume {
  std::vector<saved_state> states;
  /// Each target's last transitions within its flapping window, oldest
  /// first.
  std::vector<transition> recent;
  std::vector<saved_alert> alerts;
  /// When the last run was last seen alive; the epoch for a new database.
  caf::timestamp last_seen;
};

/// What a standby coordinator shows: who leads, and the states the leader
/// last wrote.
struct standby_view {
  std::string leader;
  std::string leader_api;
  std::vector<saved_state> states;
};

/// Until when the alerters may alert (a leader of a pair), on the actors'
/// steady clock; `bounded` false: for as long as they like (no pair, or no
/// standby that could take over).
struct alert_lease {
  bool bounded = false;
  caf::actor_clock::time_point until;
};

/// A target's uptime over 1h, 24h, 7d and 30d: ratios from 0 to 1, or a
/// negative number where there is no data.
using uptime_figures = std::array<float, 4>;

/// The windows of uptime_figures, in order, and their names.
constexpr std::array<const char*, 4> uptime_window_names{"1h", "24h", "7d",
                                                         "30d"};

/// What the state monitor needs of a target's history to tell its uptime
/// at any moment (uptime_now in actors/history_model.hpp): per window, the
/// time up and the time known from the window's start at `at` to where the
/// open interval begins (the last state change the history knew of, or the
/// start of this run), which the monitor counts itself from the state it
/// holds; and, as the window's start moves on, what slides out of it: the
/// kind of time at the start (none, up, down) for `hold_ms`, then the kind
/// after. 64 bytes: the state monitor holds one per target.
struct uptime_basis {
  /// Milliseconds since the epoch; 0: no basis yet (no figures).
  int64_t at = 0;
  /// The open interval began this long before `at` (at most a little more
  /// than the longest window: what lies before does not count).
  uint32_t open_age_ms = 0;
  struct window {
    uint32_t up_ms = 0;
    uint32_t known_ms = 0;
    uint32_t hold_ms = 0;
  };
  std::array<window, 4> windows;
  /// Per window, two bits each: the kind at its start (bits 0-7), the
  /// kind after hold_ms (bits 8-15); 0 none, 1 up, 2 down.
  uint16_t kinds = 0;
};

/// New bases, by target: when a state changed, a target was named, or a
/// change (or a run's edge) is about to slide out of a window.
struct uptime_update {
  std::vector<std::pair<target_id, uptime_basis>> bases;
};

/// One point of a target's history: an hour or a day.
struct history_point {
  caf::timestamp time;
  uint64_t polls = 0;
  uint64_t up = 0;
  uint64_t degraded = 0;
  uint64_t down = 0;
  /// Seconds spent in each state within the point.
  uint64_t up_seconds = 0;
  uint64_t degraded_seconds = 0;
  uint64_t down_seconds = 0;
  /// Answers with a latency, and their figures in microseconds.
  uint64_t latency_count = 0;
  double latency_avg_us = 0;
  uint32_t latency_min_us = 0;
  uint32_t latency_max_us = 0;
  uint32_t latency_p50_us = 0;
  uint32_t latency_p95_us = 0;
  uint32_t latency_p99_us = 0;
};

/// A question to the history about one target.
struct history_query {
  std::string target;
  caf::timestamp from;
  caf::timestamp to;
  /// history: 1h or 1d; transitions: ignored.
  bool daily = false;
  /// transitions: at most this many, newest first.
  uint32_t limit = 100;
};

/// The answer: found is false when the history has never seen the target.
struct history_answer {
  bool found = false;
  std::vector<history_point> points;
  std::vector<transition> transitions;
  /// The target's uptime over [from, to]; negative: no data.
  double uptime = -1;
};

/// Daily uptime of several targets over the last `days` days (UTC), for the
/// status page's bars.
struct daily_query {
  std::vector<std::string> targets;
  uint32_t days = 90;
};

/// Per target of the query, `days` ratios, oldest first; negative: no data.
struct daily_answer {
  std::vector<std::vector<float>> days;
};

} // namespace urlpoll
