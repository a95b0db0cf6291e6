#include "actors/resource.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/health.hpp"

namespace urlpoll {

caf::timespan next_delay(const poll_schedule& schedule,
                         uint64_t consecutive_failures) {
  // Saturate instead of overflowing: the cap applies long before.
  auto max_steps = schedule.error_backoff.count() > 0
                     ? schedule.max_backoff.count()
                         / schedule.error_backoff.count()
                     : 0;
  auto steps = std::min<uint64_t>(consecutive_failures,
                                  static_cast<uint64_t>(max_steps) + 1);
  auto backoff = std::min(schedule.error_backoff * static_cast<int64_t>(steps),
                          schedule.max_backoff);
  return schedule.interval + backoff;
}

namespace {

using resource_pointer = resource_actor::stateful_pointer<resource_state>;

void schedule_next_poll(resource_pointer self) {
  auto& st = self->state;
  if (st.schedule.once) {
    self->quit();
    return;
  }
  st.next_due += next_delay(st.schedule, st.consecutive_failures);
  // A poll that ended after the next one was due: poll again now, once.
  st.next_due = std::max(st.next_due, self->clock().now());
  self->scheduled_send(self, st.next_due, due_atom_v);
}

void handle_result(resource_pointer self, poll_result result) {
  auto& st = self->state;
  if (classify(result) == target_state::down)
    ++st.consecutive_failures;
  else
    st.consecutive_failures = 0;
  self->send(st.monitor, polled_atom_v, st.id, std::move(result));
  schedule_next_poll(self);
}

} // namespace

resource_actor::behavior_type
resource(resource_pointer self, target what, poll_schedule schedule,
         poller_actor pollers, state_monitor_actor monitor) {
  auto& st = self->state;
  st.id = what.id;
  st.url = std::move(what.url);
  st.schedule = schedule;
  st.pollers = std::move(pollers);
  st.monitor = std::move(monitor);
  st.next_due = self->clock().now();
  self->send(self, due_atom_v);
  return {
    [=](due_atom) {
      auto& st = self->state;
      // No clock timer per request: the poller's libcurl timeout bounds it.
      self
        ->request(st.pollers, caf::infinite, poll_atom_v,
                  poll_request{st.url, st.schedule.timeout})
        .then([=](poll_result& result) { handle_result(self, std::move(result)); },
              [=](caf::error& err) {
                // The poller died under this poll: the poll failed.
                poll_result result;
                result.time = caf::make_timestamp();
                result.status = "the poller failed: "
                                + self->system().render(err);
                handle_result(self, std::move(result));
              });
    },
  };
}

} // namespace urlpoll
