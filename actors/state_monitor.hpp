// state_monitor: the sole owner of the status map.
//
// Owns:     the latest status of every target (target_id -> target_status)
//           with its uptime basis from the history, the lateness of the
//           recent polls, and the requests waiting for every target's
//           first result.
// Receives: (polled_atom, target_id, poll_result) from resources;
//           (all_polled_atom) -> snapshot (its head), answered once every
//           target has a result;
//           (print_atom) from itself, every status interval;
//           (nodes_atom, nodes) from a coordinator's dispatcher;
//           (get_atom, name) -> target_detail: one target and its last
//           transitions, for the HTTP API;
//           (alerted_atom, alerter, delivered) from the alerters;
//           (track_atom, targets) from the fleet: the targets now, in
//           configuration order. A target keeps its status while its id
//           stays; a new id under a known name (its URL changed) starts
//           again at unknown, with one transition that says so; a target
//           that is gone leaves with one last transition to unknown,
//           "removed from the configuration", in the events;
//           (subscribe_atom / unsubscribe_atom, alerter) from the reloader;
//           (configure_atom, status interval) from the reloader;
//           (reloaded_atom, reload_status) from the reloader, for the
//           snapshot;
//           (standby_atom, view) from the history of a standby
//           coordinator: its status is what the leader last wrote;
//           (lead_atom) from main when it takes over: that view goes;
//           (lease_atom, lease) from the history of a leader: passed on to
//           every alerter;
//           (resume_atom, history, what to resume) from main: the
//           targets of the first track resume their state, since, counters
//           and flapping window; a resumed target no longer configured
//           leaves as a removed one does;
//           (history_atom) from itself every second: the batch for the
//           history; (save_atom) -> bool from main at shutdown: the last
//           one, with every target's open state;
//           (uptime_atom, bases) and (history_atom, status) from the
//           history, for the snapshot: each copy of a target it hands out
//           has its uptime figures at that moment;
//           (get_atom, status_query) -> snapshot: the counts by state and
//           one page of the targets that match (or of their ids), or a
//           slice of targets by id: whatever shows status asks so, a page
//           at a time;
//           (ping_atom) -> true from the service: the watchdog's question;
//           saved_alert from the alerters: what a webhook was told, for the
//           history's next batch.
//           Each target's state follows its results through the state
//           machine of health.hpp, and the last 100 transitions are kept.
// Sends:    snapshots as answers; the periodic status head, one line per
//           failed poll and every transition to its output; every
//           transition, and (removed_atom, name) for a target that left the
//           configuration, to each subscribed alerter; once a second at most
//           a history_batch (every poll's sample, every transition, the
//           open state of every target polled or changed: what kill -9
//           loses is a second of it) to the history, never a message per
//           poll.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/health.hpp"
#include "actors/interfaces.hpp"
#include "messages/history.hpp"

namespace urlpoll {

/// Where the state monitor's words go.
struct monitor_output {
  /// The head of the status (counts, lateness, nodes; no targets) every
  /// status interval, and the state monitor to ask for its targets a page
  /// at a time (status_query).
  std::function<void(snapshot, state_monitor_actor)> status;
  /// A target whose poll just failed.
  std::function<void(const target_status&)> failure;
  /// A target's state (or flapping flag) just changed.
  std::function<void(const transition&)> transition;
  /// The system clock as the state monitor reads it; empty: the system's
  /// (tests hand in one they move with the test coordinator's).
  std::function<caf::timestamp()> clock;
};

/// The targets a state monitor watches, and how their state follows results.
struct monitor_targets {
  /// Each target's method, and for an id new to the monitor its name (empty:
  /// the URL) and redacted URL; for a known id a URL only when how it is
  /// shown changed (show-query), else none.
  std::vector<target_status> targets;
  /// The id of each target, given out by the fleet; empty: 0, 1, 2, ...
  std::vector<target_id> ids;
  /// Targets whose URL changed under the same name: new id -> old id.
  std::unordered_map<target_id, target_id> renewed;
  /// Per target, its index in rule_sets; empty: every target uses the first.
  std::vector<uint32_t> rules;
  std::vector<state_rules> rule_sets{state_rules{}};
};

/// Which targets a snapshot holds: those that match, one page of them.
///
/// A document of every target is never one message: whoever writes one asks
/// for the head and the ids of the page (`ids_only`), then for the targets a
/// slice of ids at a time (`ids`), so that the state monitor copies a few
/// hundred targets between polls, never a million at once.
struct status_query {
  /// "", "up", "degraded", "down", "unknown", "flapping", "problems" (down,
  /// degraded or flapping) or "not-up" (down, degraded, unknown or
  /// flapping).
  std::string state;
  /// A part of the name, in any case.
  std::string text;
  /// Down first, then degraded, flapping, unknown, up; else configuration
  /// order.
  bool problems_first = false;
  size_t offset = 0;
  /// Negative: all.
  int64_t limit = -1;
  /// The answer holds the ids of the page's targets, not the targets.
  bool ids_only = false;
  /// Not empty: the answer holds these targets (those still watched), in
  /// this order, and no head; every other field is ignored.
  std::vector<target_id> ids;
};

/// How many targets a page of a streamed document holds.
constexpr size_t stream_page_size = 500;

/// Whether `state` is a state status_query knows.
bool valid_state_filter(const std::string& state);

/// Targets named by their (redacted) URLs, with the default rules.
monitor_targets plain_targets(std::vector<std::string> urls);

struct state_monitor_state {
  /// A coordinator's poller nodes, as the dispatcher last reported them.
  std::vector<node_status> nodes;
  /// Results per node name, counted here (see count_node_polls).
  std::unordered_map<std::string, uint64_t> node_polls;
  /// The status map, in configuration order.
  std::vector<target_status> targets;
  /// The last transitions of each target, oldest first.
  std::vector<std::vector<transition>> history;
  std::vector<uint32_t> rules;
  std::vector<state_rules> rule_sets;
  /// Each target's id, and each id's place in the vectors above.
  std::vector<target_id> ids;
  std::unordered_map<target_id, uint32_t> slot;
  /// The alerters that hear of every transition.
  std::vector<alerter_actor> subscribers;
  caf::timespan status_interval{0};
  /// The configuration's last reload, as the reloader reported it.
  reload_status config;
  /// How many targets have no result yet.
  size_t unpolled = 0;
  caf::timestamp started;
  /// Every poll's lateness since start, for /metrics.
  lateness_histogram histogram;
  /// Webhook deliveries per alerter.
  std::vector<alert_counter> alerts;
  /// The lateness of the most recent polls, a ring of lateness_window.
  std::vector<caf::timespan> lateness;
  size_t lateness_next = 0;
  /// Requests for the moment every target has a result.
  std::vector<caf::typed_response_promise<snapshot>> awaiting_all_polled;
  /// Each target's uptime basis, from the history: with the state and the
  /// transitions above, its figures at any moment (uptime_now).
  std::vector<uptime_basis> bases;
  /// The history (the actor, not the transitions above), and the batch it
  /// gets next.
  history_actor archive;
  history_batch batch;
  history_status history_info;
  /// What the history resumes, until the first track took it.
  std::shared_ptr<const history_resume> resume;
  /// Until when the alerters may alert, as the history last said.
  alert_lease lease;
  monitor_output output;
  static inline const char* name = "state_monitor";
};

/// How many recent polls the lateness figures cover.
constexpr size_t lateness_window = 65536;

/// p50, p99 and max of `samples`.
lateness_summary summarize(std::vector<caf::timespan> samples);

/// Watches `what` (indexed by target_id) and prints their status every
/// `status_interval` (never when it is zero).
state_monitor_actor::behavior_type
state_monitor(state_monitor_actor::stateful_pointer<state_monitor_state> self,
              monitor_targets what, caf::timespan status_interval,
              monitor_output output);

} // namespace urlpoll
