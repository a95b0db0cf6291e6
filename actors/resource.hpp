// resource: one target.
//
// Owns:     the target's URL, its consecutive failures and when it is next
//           due.
// Receives: (due_atom) from the timer wheel, when the next poll is due;
//           (rules_atom, rules) from the fleet: poll by these from the next
//           poll on (a next poll that the new interval makes earlier moves
//           earlier at once);
//           (pollers_atom, pollers) from the fleet: poll through these.
// Sends:    (wake_atom, due time, itself) to the timer wheel;
//           (poll_atom, poll_request) to the pollers, and each result as
//           (polled_atom, target_id, poll_result) to the state monitor.
//
//   start --> [waiting] --(due)--> [polling] --(result)--> [waiting] ...
//
// The first poll is due `first_delay` after start, which spreads the first
// polls of many targets. Then polls keep the target's phase: the next one is
// due one delay after the previous due time, where the delay is the poll
// interval plus the back-off after failures. The next poll is scheduled only
// when the result is in, so at most one poll of a target is in flight.
// A due that comes while a poll is in flight, or before the next due time
// (a wake-up asked for under older rules), starts no poll.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/interfaces.hpp"

namespace urlpoll {

/// When a target is polled.
struct poll_schedule {
  /// Between polls of a healthy target.
  caf::timespan interval = std::chrono::seconds{60};
  /// Added to the interval for each consecutive failure...
  caf::timespan error_backoff = std::chrono::seconds{10};
  /// ...up to this much.
  caf::timespan max_backoff = std::chrono::minutes{10};
  /// While the target fails (before and after it is confirmed down): the
  /// delay between polls instead; 0: interval plus back-off.
  caf::timespan retry_interval{0};
  /// How long one poll may take.
  caf::timespan timeout = std::chrono::seconds{10};
  /// Open a new connection for each poll.
  bool fresh_connection = false;
  /// Poll once and stop.
  bool once = false;
};

/// The delay from one poll's due time to the next: the retry interval while
/// failing when there is one, else
/// interval + min(error_backoff x consecutive_failures, max_backoff).
caf::timespan next_delay(const poll_schedule& schedule,
                         uint64_t consecutive_failures);

/// When the first poll of target `index` of `count` is due: the first polls
/// of all targets spread evenly over `spread`.
caf::timespan start_offset(caf::timespan spread, size_t index, size_t count);

/// A target as a resource sees it.
struct target {
  target_id id = 0;
  /// As configured, credentials included: only pollers ever see it.
  std::string url;
};

/// How a target is polled and shown: shared by every target configured
/// alike (all plain `urls` share one), so a target costs its URL, not its
/// rules.
struct target_rules {
  poll_schedule schedule;
  /// The request of every poll, with the URL, due time, timeout and
  /// connection mode filled in per poll.
  poll_request check;
  /// Outputs show the URL's query values (else each as `***`): no poll
  /// depends on it, only how the target is named and shown.
  bool show_query = false;
};

struct resource_state {
  target_id id = 0;
  std::string url;
  std::shared_ptr<const target_rules> rules;
  /// The target refused HEAD (405, 501): polls use GET from then on.
  bool use_get = false;
  uint64_t consecutive_failures = 0;
  /// A poll is in flight; next_due is that poll's due time until it ends.
  bool polling = false;
  /// The first poll started: next_due is one delay after the last due.
  bool started = false;
  caf::actor_clock::time_point next_due;
  poller_actor pollers;
  state_monitor_actor monitor;
  timer_wheel_actor wheel;
  static inline const char* name = "resource";
};

/// The actors a resource works with.
struct resource_peers {
  poller_actor pollers;
  state_monitor_actor monitor;
  timer_wheel_actor wheel;
};

/// Polls `what` through the pollers by `rules`, the first time `first_delay`
/// after start, and reports every result to the monitor.
resource_actor::behavior_type
resource(resource_actor::stateful_pointer<resource_state> self, target what,
         std::shared_ptr<const target_rules> rules, caf::timespan first_delay,
         resource_peers peers);

} // namespace urlpoll
