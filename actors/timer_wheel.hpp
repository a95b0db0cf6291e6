// timer_wheel: wakes resources when their next poll is due, in batches.
//
// Owns:     the pending wake-ups, grouped into ticks of `resolution`.
// Receives: (wake_atom, time_point, resource) from a resource: wake me then;
//           (tick_atom) from itself, when the earliest tick is due.
// Sends:    (due_atom) to every resource of a tick, all at once.
//
// Each resource still decides when it is next due. Only the delivery is
// shared: one CAF clock timer per tick instead of one per poll, which keeps
// the clock's lock and its thread wake-ups off the path of every poll.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace urlpoll {

struct timer_wheel_state {
  /// Resources to wake, by tick: tick t ends at origin + t x resolution.
  std::map<int64_t, std::vector<resource_actor>> ticks;
  caf::actor_clock::time_point origin;
  caf::timespan resolution{0};
  /// The tick a tick_atom is on its way for, if any.
  std::optional<int64_t> armed;
  static inline const char* name = "timer_wheel";
};

/// Wakes resources with a precision of `resolution`: never early, at most
/// `resolution` late (plus the scheduler's own delays).
timer_wheel_actor::behavior_type
timer_wheel(timer_wheel_actor::stateful_pointer<timer_wheel_state> self,
            caf::timespan resolution);

} // namespace urlpoll
