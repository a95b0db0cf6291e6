#include "actors/resource.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/health.hpp"

namespace urlpoll {

caf::timespan next_delay(const poll_schedule& schedule,
                         uint64_t consecutive_failures) {
  if (consecutive_failures > 0 && schedule.retry_interval.count() > 0)
    return schedule.retry_interval;
  // Saturate instead of overflowing: the cap applies long before.
  auto max_steps =
    schedule.error_backoff.count() > 0
      ? schedule.max_backoff.count() / schedule.error_backoff.count()
      : 0;
  auto steps = std::min<uint64_t>(consecutive_failures,
                                  static_cast<uint64_t>(max_steps) + 1);
  auto backoff = std::min(schedule.error_backoff * static_cast<int64_t>(steps),
                          schedule.max_backoff);
  return schedule.interval + backoff;
}

caf::timespan start_offset(caf::timespan spread, size_t index, size_t count) {
  if (count == 0)
    return caf::timespan{0};
  // In 128 bits: 100,000 targets x a spread of hours overflows 64.
  auto ns = static_cast<__int128>(spread.count()) *
            static_cast<__int128>(index) / static_cast<__int128>(count);
  return caf::timespan{static_cast<int64_t>(ns)};
}

namespace {

using resource_pointer = resource_actor::stateful_pointer<resource_state>;

void wake_at_next_due(resource_pointer self) {
  self->send(self->state.wheel, wake_atom_v, self->state.next_due,
             resource_actor{self});
}

void schedule_next_poll(resource_pointer self) {
  auto& st = self->state;
  if (st.rules->schedule.once) {
    self->quit();
    return;
  }
  st.next_due += next_delay(st.rules->schedule, st.consecutive_failures);
  // A poll that ended after the next one was due: poll again now, once.
  st.next_due = std::max(st.next_due, self->clock().now());
  wake_at_next_due(self);
}

void handle_result(resource_pointer self, poll_result result) {
  auto& st = self->state;
  st.polling = false;
  st.use_get = st.use_get || result.head_refused;
  switch (classify(result)) {
  case target_state::down:
    ++st.consecutive_failures;
    break;
  case target_state::up:
  case target_state::degraded:
    st.consecutive_failures = 0;
    break;
  default:
    // No node could poll: the target neither failed nor recovered.
    break;
  }
  self->send(st.monitor, polled_atom_v, st.id, std::move(result));
  schedule_next_poll(self);
}

} // namespace

resource_actor::behavior_type
resource(resource_pointer self, target what,
         std::shared_ptr<const target_rules> rules, caf::timespan first_delay,
         resource_peers peers) {
  auto& st = self->state;
  st.id = what.id;
  st.url = std::move(what.url);
  st.rules = std::move(rules);
  st.pollers = std::move(peers.pollers);
  st.monitor = std::move(peers.monitor);
  st.wheel = std::move(peers.wheel);
  st.next_due = self->clock().now() + first_delay;
  if (first_delay.count() > 0)
    wake_at_next_due(self);
  else
    self->send(self, due_atom_v);
  return {
    [=](due_atom) {
      auto& st = self->state;
      if (st.polling)
        return;
      if (self->clock().now() < st.next_due) {
        // Asked for under older rules: the wake-up for next_due may be gone
        // with them, so ask again (a second one for the same time finds
        // this target polling, and starts nothing).
        wake_at_next_due(self);
        return;
      }
      st.polling = true;
      st.started = true;
      auto& schedule = st.rules->schedule;
      auto request = st.rules->check;
      request.url = st.url;
      request.timeout = schedule.timeout;
      request.fresh_connection = schedule.fresh_connection;
      if (st.use_get)
        request.method = http_method::get;
      // The due time on the system clock, for the poller's lateness measure.
      request.due = caf::make_timestamp() - (self->clock().now() - st.next_due);
      // No clock timer per request: the poller's libcurl timeout bounds it.
      self->request(st.pollers, caf::infinite, poll_atom_v, std::move(request))
        .then(
          [=](poll_result& result) { handle_result(self, std::move(result)); },
          [=](caf::error& err) {
            // The poller died under this poll: the poll failed.
            poll_result result;
            result.time = caf::make_timestamp();
            result.status = "the poller failed: " + self->system().render(err);
            handle_result(self, std::move(result));
          });
    },
    [=](rules_atom, std::shared_ptr<const target_rules>& rules) {
      auto& st = self->state;
      auto old = std::move(st.rules);
      st.rules = std::move(rules);
      // While polling, the result schedules the next poll by the new rules;
      // before the first poll, its place in the start-up spread stays.
      if (st.polling || !st.started)
        return;
      // The next poll keeps the phase: one new delay after the last due time.
      auto last_due =
        st.next_due - next_delay(old->schedule, st.consecutive_failures);
      auto due = std::max(
        last_due + next_delay(st.rules->schedule, st.consecutive_failures),
        self->clock().now());
      if (due != st.next_due) {
        st.next_due = due;
        wake_at_next_due(self);
      }
    },
    [=](pollers_atom, poller_actor& pollers) {
      self->state.pollers = std::move(pollers);
    },
  };
}

} // namespace urlpoll
