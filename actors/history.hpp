// history: the sole owner of the history database (SQLite).
//
// Owns:     the database (history_store), on a thread of its own: its I/O
//           never blocks a scheduler thread; per target it watches, the
//           hour being counted (polls by verdict, time in each state,
//           latency) and its state changes of the last 30 days, from which
//           it computes uptime by time; what waits for the database while
//           a write fails.
// Receives: (start_atom, longest flap window) -> history_opened from main:
//           open the database, begin a run, answer what a restart resumes;
//           (subscribe_atom, monitor) from main: where uptime goes;
//           history_batch from the state monitor, once a second: samples,
//           transitions, the open states of the targets polled;
//           saved_alert from the alerters: what a webhook was last told;
//           (get_atom, query) / (transitions_atom, query) / (daily_atom,
//           query) from the HTTP API;
//           (save_atom) -> bool from main at shutdown: write everything;
//           (configure_atom, options) from the reloader;
//           (lead_atom, main) from main: who hears of leadership;
//           (flush_atom), (uptime_atom), (housekeep_atom), (beat_atom)
//           from itself.
// Sends:    (uptime_atom, bases) and (history_atom, status) to the state
//           monitor: a target's uptime basis when it is named, when its
//           state changed, and when a change slides past a window's start
//           (uptime_atom, every second, looks); a line to the printer when
//           writes fail (once a minute at most) and when they work again.
//           With PostgreSQL, every tenth of ha-takeover (beat_atom): a
//           leader says it lives and sends the monitor (lease_atom, until
//           when it may alert); a standby tries to take the lead and sends
//           the monitor (standby_atom, what the leader wrote), or on
//           taking it sends main (lead_atom, what to resume); a leader that
//           lost its lock sends main (standby_atom).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/history_model.hpp"
#include "actors/history_store.hpp"
#include "actors/interfaces.hpp"

namespace urlpoll {

/// How the history keeps its data.
struct history_options {
  /// How often the hours being counted are written (transitions and the
  /// open states of the targets polled: every second).
  caf::timespan flush = std::chrono::minutes{1};
  /// Hours are rolled into days after this long.
  caf::timespan hourly = std::chrono::hours{24 * 14};
  /// Days, transitions and runs are kept this long.
  caf::timespan retention = std::chrono::hours{24 * 400};
  /// With PostgreSQL: a standby leads at most this long after the leader
  /// died or hung (ha-takeover). A silent session ends after 0.4 of it,
  /// and every coordinator speaks every tenth of it.
  caf::timespan takeover = std::chrono::seconds{10};
  /// This coordinator's node name and HTTP API, for the others to show.
  std::string node;
  std::string api;
};

/// How long a PostgreSQL session of urlpoll's lives without a word.
int64_t lease_ms(const history_options& x);

/// The answer to start_atom: the problem in words (the database cannot be
/// used), or what a restart resumes.
struct history_opened {
  std::string problem;
  std::shared_ptr<const history_resume> resume;
  /// Another coordinator leads: this one stands by, and hears (lead_atom,
  /// resume) when it takes over.
  bool standby = false;
};

struct history_state {
  /// One target the state monitor watches.
  struct watched {
    std::string name;
    /// The hour `hour` counts (hours since the epoch).
    int64_t hour = 0;
    aggregate counting;
    bool dirty = false;
    /// The state since `mark`, up to which time is counted.
    target_state state = target_state::unknown;
    int64_t mark = 0;
    /// State changes of the last 30 days, and the last one before.
    std::vector<state_change> changes;
    /// When its uptime basis needs computing again (refresh_due).
    int64_t refresh = INT64_MAX;
  };
  std::unique_ptr<history_store> db;
  history_options options;
  /// The wall clock and the steady clock when last looked at: a step of
  /// the wall clock (NTP, date -s) shows as a difference between the two.
  int64_t wall_seen = 0;
  caf::actor_clock::time_point steady_seen;
  int64_t run = 0;
  int64_t started = 0;
  /// Earlier runs within the longest window.
  std::vector<run_span> runs;
  std::unordered_map<target_id, watched> targets;
  /// (refresh, target), earliest first; an entry whose target's refresh
  /// is another is stale.
  std::priority_queue<std::pair<int64_t, target_id>,
                      std::vector<std::pair<int64_t, target_id>>,
                      std::greater<>>
    refreshes;
  std::unordered_map<std::string, target_id> by_name;
  /// Loaded at start, taken by targets as they are named.
  std::unordered_map<std::string, std::vector<state_change>> loaded_changes;
  /// Hours being counted of targets not watched now (loaded at start, or
  /// left by a removed target): taken back if it returns within the hour.
  std::unordered_map<std::string, std::pair<int64_t, aggregate>> loaded_hours;
  // What waits for the database.
  std::vector<transition> pending_transitions;
  /// name -> state to save, or none: drop it.
  std::map<std::string, std::optional<saved_state>> pending_states;
  std::vector<std::tuple<std::string, int64_t, aggregate>> pending_hours;
  std::vector<std::pair<saved_alert, bool>> pending_alerts;
  std::unordered_map<std::string, int64_t> ids;
  history_status status;
  /// On the steady clock: a step of the system clock neither silences the
  /// complaints nor repeats them.
  std::optional<caf::actor_clock::time_point> last_complaint;
  uint64_t errors_since_complaint = 0;
  state_monitor_actor monitor;
  caf::actor printer;
  // A coordinator pair (PostgreSQL).
  bool shared = false;
  bool leading = false;
  /// Told (lead_atom, resume) on taking over, (standby_atom) on losing the
  /// lead.
  caf::actor leadership;
  /// Taken over before main asked to hear of it: told when it asks.
  std::shared_ptr<const history_resume> untold;
  /// Lost the lead: nothing more is tried until main starts afresh.
  bool stepped_down = false;
  caf::timespan flap_window{0};
  /// When the last heartbeat that confirmed the lead was sent.
  std::optional<caf::actor_clock::time_point> renewed;
  /// A standby: when it last read what the leader wrote (once a second at
  /// most: at 100,000 targets a read is 100,000 rows).
  std::optional<caf::actor_clock::time_point> viewed;
  static inline const char* name = "history";
};

/// Spawns the history on its own thread; nothing is opened before
/// start_atom.
history_actor spawn_history(caf::actor_system& sys, std::string path,
                            history_options options, caf::actor printer);

} // namespace urlpoll
