// resource: one target.
//
// Owns:     the target's URL, its consecutive failures and when it is next
//           due.
// Receives: (due_atom) from itself, when the next poll is due.
// Sends:    (poll_atom, poll_request) to the pollers, and each result as
//           (polled_atom, target_id, poll_result) to the state monitor.
//
//   start --> [due] --(poll)--> [polling] --(result)--> [waiting] --> [due]
//
// Polls keep the target's phase: the next one is due one delay after the
// previous due time, where the delay is the poll interval plus the back-off
// after failures. The next poll is scheduled only when the result is in, so
// at most one poll of a target is in flight.
#pragma once

#include <chrono>
#include <string>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/poller.hpp"
#include "actors/state_monitor.hpp"
#include "messages/messages.hpp"

namespace urlpoll {

/// When a target is polled.
struct poll_schedule {
  /// Between polls of a healthy target.
  caf::timespan interval = std::chrono::seconds{60};
  /// Added to the interval for each consecutive failure...
  caf::timespan error_backoff = std::chrono::seconds{10};
  /// ...up to this much.
  caf::timespan max_backoff = std::chrono::minutes{10};
  /// How long one poll may take.
  caf::timespan timeout = std::chrono::seconds{10};
  /// Poll once and stop.
  bool once = false;
};

/// The delay from one poll's due time to the next:
/// interval + min(error_backoff x consecutive_failures, max_backoff).
caf::timespan next_delay(const poll_schedule& schedule,
                         uint64_t consecutive_failures);

/// A target as a resource sees it.
struct target {
  target_id id = 0;
  /// As configured, credentials included: only pollers ever see it.
  std::string url;
};

using resource_actor = caf::typed_actor<caf::reacts_to<due_atom>>;

struct resource_state {
  target_id id = 0;
  std::string url;
  poll_schedule schedule;
  uint64_t consecutive_failures = 0;
  caf::actor_clock::time_point next_due;
  poller_actor pollers;
  state_monitor_actor monitor;
  static inline const char* name = "resource";
};

/// Polls `what` through `pollers` on `schedule` and reports every result to
/// `monitor`. The first poll is due right away.
resource_actor::behavior_type
resource(resource_actor::stateful_pointer<resource_state> self, target what,
         poll_schedule schedule, poller_actor pollers,
         state_monitor_actor monitor);

} // namespace urlpoll
