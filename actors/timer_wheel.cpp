#include "actors/timer_wheel.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace urlpoll {

namespace {

using wheel_pointer = timer_wheel_actor::stateful_pointer<timer_wheel_state>;

caf::actor_clock::time_point end_of(const timer_wheel_state& st, int64_t tick) {
  return st.origin +
         std::chrono::duration_cast<caf::actor_clock::duration_type>(
           st.resolution * tick);
}

// The tick whose end is the first at or after `t`: waking is never early.
int64_t tick_of(const timer_wheel_state& st, caf::actor_clock::time_point t) {
  auto since = std::chrono::duration_cast<caf::timespan>(t - st.origin).count();
  auto res = st.resolution.count();
  if (since <= 0)
    return 0;
  return (since + res - 1) / res;
}

void arm(wheel_pointer self) {
  auto& st = self->state;
  if (st.ticks.empty())
    return;
  auto first = st.ticks.begin()->first;
  if (st.armed && *st.armed <= first)
    return;
  st.armed = first;
  self->scheduled_send(self, end_of(st, first), tick_atom_v);
}

void deliver_due(wheel_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  while (!st.ticks.empty() && end_of(st, st.ticks.begin()->first) <= now) {
    for (auto& r : st.ticks.begin()->second)
      self->send(r, due_atom_v);
    st.ticks.erase(st.ticks.begin());
  }
}

} // namespace

timer_wheel_actor::behavior_type timer_wheel(wheel_pointer self,
                                             caf::timespan resolution) {
  self->state.resolution = std::max(resolution, caf::timespan{1});
  self->state.origin = self->clock().now();
  return {
    [=](wake_atom, caf::actor_clock::time_point when, resource_actor& who) {
      auto& st = self->state;
      auto tick = tick_of(st, when);
      if (end_of(st, tick) <= self->clock().now()) {
        self->send(who, due_atom_v);
        return;
      }
      st.ticks[tick].push_back(std::move(who));
      arm(self);
    },
    [=](tick_atom) {
      auto& st = self->state;
      st.armed.reset();
      deliver_due(self);
      arm(self);
    },
  };
}

} // namespace urlpoll
