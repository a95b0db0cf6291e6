// Two ways to run actors in a test: deterministically on CAF's test
// coordinator (no threads, a clock the test moves), or for real on the
// default scheduler (for libcurl and sockets), with bounded waits.
#pragma once

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/poller.hpp"
#include "messages/messages.hpp"

namespace urlpoll::test {

struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    add_message_types<caf::id_block::urlpoll>();
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

/// Actors on CAF's test coordinator: `run()` processes every pending
/// message, `advance(d)` moves the clock and fires the timers due.
struct deterministic_fixture {
  deterministic_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  deterministic_fixture() {
    // Actors waiting for a timer the test never fires must not keep the
    // system from shutting down.
    sys.await_actors_before_shutdown(false);
  }

  void run() { sched.run(); }

  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  /// Time from now until the earliest pending timer.
  caf::timespan next_timer() const {
    auto& schedule = sched.clock().schedule();
    if (schedule.empty())
      return caf::timespan{-1};
    return schedule.begin()->first - sched.clock().now();
  }

  size_t pending_timers() const { return sched.clock().schedule().size(); }

  /// The state of a stateful actor, read directly: the test is its thread.
  template <class State, class Handle>
  State& state_of(const Handle& handle) {
    using pointer = typename Handle::template stateful_pointer<State>;
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(handle);
    return dynamic_cast<std::remove_pointer_t<pointer>&>(*ptr).state;
  }
};

struct threaded_config : caf::actor_system_config {
  threaded_config() {
    add_message_types<caf::id_block::urlpoll>();
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console-verbosity", caf::atom("quiet"));
  }
};

/// Actors on real threads.
struct threaded_fixture {
  threaded_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> to_stop;

  // Even when a test fails half-way, its pollers stop: the system waits for
  // them before it shuts down.
  ~threaded_fixture() {
    for (auto& a : to_stop)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  /// A pool of `n` real pollers, stopped with the fixture.
  poller_actor spawn_pool(size_t n, size_t max_in_flight = 1000) {
    auto pool = spawn_pollers(sys, n, max_in_flight);
    to_stop.push_back(caf::actor_cast<caf::actor>(pool));
    return pool;
  }
};

} // namespace urlpoll::test
