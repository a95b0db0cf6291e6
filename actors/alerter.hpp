// alerter: one webhook from urlpoll.alerts.
//
// Owns:     what it last told the webhook about each target, the reminders
//           due for targets that stay down, and the deliveries waiting in
//           line (in order, one in flight at a time).
// Receives: each transition, from the state monitor;
//           (removed_atom, name) from the state monitor: the target left the
//           configuration, so an open alert for it is resolved as such;
//           (configure_atom, rule) from the reloader: the rule changed;
//           (lease_atom, lease) from the state monitor: a leader of a pair
//           delivers nothing after its lease ends (a standby may lead by
//           then), until the history renews it;
//           (remind_atom) from itself every second: reminders and retries.
// Sends:    what the webhook was last told about a target (saved_alert) to
//           the state monitor, whose next batch takes it to the history, so
//           that a restart resumes the open alerts;
//           (post_atom, url, body) to its sender, a detached actor that does
//           the blocking HTTP POST, so that a slow or dead webhook never
//           delays polling; (alerted_atom, name, delivered) to the state
//           monitor, which counts deliveries for /metrics; failures as log
//           lines to `log`.
//
// Per target: a transition to down (or degraded) is alerted, one back to up
// after that is "resolved", reminders repeat every repeat-interval while the
// target stays down, and nothing is sent while it flaps: when it settles,
// its state then is alerted if it differs from what was last sent.
//
// After a restart it starts from what the history resumed: the open alerts
// it had, and the states the targets resume. Once a target's first result
// after the restart confirms or changes its state, what differs from what
// the webhook was told goes out: a target still down whose alert never went
// out is alerted, an open alert whose target is up is resolved; an outage
// alerted before is not alerted again.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/interfaces.hpp"
#include "messages/history.hpp"
#include "messages/log.hpp"
#include "messages/snapshot.hpp"

namespace urlpoll {

/// One entry of urlpoll.alerts.
struct alert_rule {
  std::string name;
  /// The webhook; it gets one JSON document per alert, by POST.
  std::string url;
  /// The states to alert on: "down", "degraded", "up" ("up" after down or
  /// degraded is "resolved").
  std::vector<target_state> on{target_state::down, target_state::degraded,
                               target_state::up};
  /// Reminders while a target stays down; 0: none.
  caf::timespan repeat_interval = std::chrono::hours{1};
  /// Slack-compatible {"text": "..."} bodies instead of urlpoll's document.
  bool slack = false;
  /// One delivery attempt at most.
  caf::timespan timeout = std::chrono::seconds{5};
  /// Attempts per alert; between them 1s, 2s, 4s, ... at most 1min.
  uint32_t max_attempts = 5;
};

/// What one alert says: the event ("down", "degraded", "up", "resolved" or
/// "reminder") and the transition behind it.
struct alert {
  std::string event;
  transition cause;
  /// When the target's current state began.
  caf::timestamp since;
};

/// The request body for `x` by `rule`: urlpoll's JSON document, or Slack's.
std::string alert_body(const alert_rule& rule, const alert& x);

struct delivery {
  std::string body;
  std::string event;
  std::string target;
  uint32_t attempts = 0;
  /// What it tells about the target: down, degraded, up (resolved), or
  /// unknown (a reminder, which changes nothing).
  target_state tells = target_state::unknown;
};

struct alerter_state {
  struct per_target {
    /// The state last alerted; unknown when none was.
    target_state alerted = target_state::unknown;
    target_state state = target_state::unknown;
    bool flapping = false;
    caf::timestamp since;
    /// On the actor's (steady) clock, as retry_at: a step of the system
    /// clock neither sends every reminder at once nor holds them back.
    caf::actor_clock::time_point next_reminder;
    transition last;
  };
  alert_rule rule;
  std::map<std::string, per_target> targets;
  std::deque<delivery> queue;
  bool busy = false;
  caf::actor_clock::time_point retry_at;
  caf::actor sender;
  state_monitor_actor monitor;
  /// Whether there is a history that keeps open alerts.
  bool remembers = false;
  /// A leader of a coordinator pair alerts only until its lease ends: then
  /// a standby may lead. Deliveries wait meanwhile.
  alert_lease lease;
  std::function<void(log_line)> log;
  static inline const char* name = "alerter";
};

/// With `remembers`, what it tells goes to the history (by the state
/// monitor); `resumed` (may be null) is what the history resumed at
/// start-up; `lease`: until when it may deliver before the first lease
/// comes (a pair: not at all).
alerter_actor::behavior_type
alerter(alerter_actor::stateful_pointer<alerter_state> self, alert_rule rule,
        state_monitor_actor monitor, std::function<void(log_line)> log,
        bool remembers = false,
        std::shared_ptr<const history_resume> resumed = nullptr,
        alert_lease lease = {});

} // namespace urlpoll
