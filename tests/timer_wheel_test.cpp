#include <vector>

#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "actors/resource.hpp"
#include "actors/timer_wheel.hpp"
#include "support/actor_fixtures.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

struct woken_state {
  std::vector<caf::actor_clock::time_point>* log = nullptr;
  static inline const char* name = "woken";
};

// A resource stand-in that logs when it was woken.
resource_actor::behavior_type
woken(resource_actor::stateful_pointer<woken_state> self,
      std::vector<caf::actor_clock::time_point>* log) {
  self->state.log = log;
  return {
    [=](due_atom) { self->state.log->push_back(self->clock().now()); },
    [](rules_atom, const std::shared_ptr<const target_rules>&) {},
    [](pollers_atom, const poller_actor&) {},
  };
}

struct wheel_fixture : deterministic_fixture {
  timer_wheel_actor wheel = sys.spawn(timer_wheel, caf::timespan{10ms});
  std::vector<caf::actor_clock::time_point> log;
  std::vector<resource_actor> sleepers;

  ~wheel_fixture() {
    caf::anon_send_exit(wheel, caf::exit_reason::user_shutdown);
    for (auto& s : sleepers)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    run();
  }

  void wake_in(caf::timespan d) {
    auto s = sys.spawn(woken, &log);
    sleepers.push_back(s);
    caf::anon_send(wheel, wake_atom::value, sched.clock().now() + d, s);
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(wheel_fixture,
                  "the wheel wakes each resource at its tick, never early") {
  auto t0 = sched.clock().now();
  wake_in(25ms);
  wake_in(30ms);
  wake_in(1s);
  advance(20ms);
  CHECK(log.empty());
  advance(10ms);
  REQUIRE(log.size() == 2);
  CHECK(log[0] - t0 >= 25ms);
  CHECK(log[1] - t0 == 30ms);
  advance(970ms);
  CHECK(log.size() == 3);
}

TEST_CASE_FIXTURE(wheel_fixture,
                  "one clock timer serves all resources due in one tick") {
  for (int i = 0; i < 1000; ++i)
    wake_in(std::chrono::microseconds{50'000 + i});
  CHECK_MESSAGE(pending_timers() == 1, "1,000 wake-ups, one clock timer");
  advance(60ms);
  CHECK(log.size() == 1000);
  CHECK(pending_timers() == 0);
}

TEST_CASE_FIXTURE(wheel_fixture, "a wake-up for the past is delivered now") {
  wake_in(-5s);
  CHECK(log.size() == 1);
  CHECK(pending_timers() == 0);
}

TEST_CASE_FIXTURE(wheel_fixture, "an earlier wake-up re-arms the wheel") {
  wake_in(10s);
  wake_in(20ms);
  advance(20ms);
  CHECK(log.size() == 1);
  advance(10s);
  CHECK(log.size() == 2);
}
