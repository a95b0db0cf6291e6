#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "actors/resource.hpp"
#include "actors/state_monitor.hpp"
#include "actors/timer_wheel.hpp"
#include "support/actor_fixtures.hpp"
#include "support/mock_poller.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

struct resource_fixture : deterministic_fixture {
  mock_poller_actor mock = sys.spawn(mock_poller, std::deque<poll_result>{});
  poller_actor pollers = mock;
  state_monitor_actor monitor =
    sys.spawn(state_monitor, plain_targets({"http://t.example/"}),
              caf::timespan{0}, monitor_output{});
  timer_wheel_actor wheel = sys.spawn(timer_wheel, caf::timespan{10ms});

  std::vector<resource_actor> resources;

  // The test coordinator fires every timer at shutdown: stop the resources
  // first, or one whose poller is dead would poll forever.
  // Also the mock and the monitor: a held request and a resource's handle on
  // its poller form a cycle that only their exit breaks.
  ~resource_fixture() {
    for (auto& r : resources)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(mock, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(wheel, caf::exit_reason::user_shutdown);
    run();
  }

  resource_actor start(poll_schedule schedule,
                       caf::timespan first_delay = caf::timespan{0}) {
    auto rules = std::make_shared<target_rules>();
    rules->schedule = schedule;
    auto r = sys.spawn(resource, target{0, "http://u:pw@t.example/"},
                       std::shared_ptr<const target_rules>{rules}, first_delay,
                       resource_peers{pollers, monitor, wheel});
    resources.push_back(r);
    run();
    return r;
  }

  mock_poller_state& poller() { return state_of<mock_poller_state>(mock); }

  const target_status& status() {
    return state_of<state_monitor_state>(monitor).targets.at(0);
  }

  void release(poll_result result) {
    caf::anon_send(mock, release_atom::value, std::move(result));
    run();
  }

  void script(std::initializer_list<poll_result> results) {
    for (auto& r : results)
      poller().script.push_back(r);
  }
};

poll_schedule schedule_60s() {
  poll_schedule s;
  s.interval = 60s;
  s.error_backoff = 10s;
  s.max_backoff = 25s;
  s.timeout = 5s;
  return s;
}

} // namespace

TEST_CASE("the delay after failures grows by error-backoff up to max-backoff") {
  auto s = schedule_60s();
  CHECK(next_delay(s, 0) == 60s);
  CHECK(next_delay(s, 1) == 70s);
  CHECK(next_delay(s, 2) == 80s);
  CHECK(next_delay(s, 3) == 85s);
  CHECK(next_delay(s, 1'000'000'000'000) == 85s);
  s.error_backoff = 0s;
  CHECK(next_delay(s, 5) == 60s);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a resource polls right after start, then every interval") {
  script({ok_result(), ok_result(), ok_result()});
  start(schedule_60s());
  REQUIRE(poller().requests.size() == 1);
  CHECK(poller().requests[0].url == "http://u:pw@t.example/");
  CHECK(poller().requests[0].timeout == 5s);
  CHECK(next_timer() == 60s);
  advance(59s);
  CHECK(poller().requests.size() == 1);
  advance(1s);
  CHECK(poller().requests.size() == 2);
  advance(60s);
  CHECK(poller().requests.size() == 3);
  CHECK(status().polls == 3);
  CHECK(status().state == target_state::up);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a failing target backs off by error-backoff per consecutive "
                  "failure, capped at max-backoff") {
  script({refused_result(), refused_result(), refused_result(),
          refused_result(), ok_result(), ok_result()});
  start(schedule_60s());
  CHECK(next_timer() == 70s);
  advance(70s);
  CHECK(next_timer() == 80s);
  advance(80s);
  CHECK(next_timer() == 85s);
  advance(85s);
  CHECK_MESSAGE(next_timer() == 85s, "capped at interval + max-backoff");
  advance(85s);
  CHECK_MESSAGE(next_timer() == 60s, "a success resets the back-off");
  CHECK(poller().requests.size() == 5);
  CHECK(status().failures == 4);
  CHECK(status().consecutive_failures == 0);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a resource keeps at most one poll in flight") {
  start(schedule_60s());
  REQUIRE(poller().held.size() == 1);
  CHECK(pending_timers() == 0);
  advance(1h);
  CHECK_MESSAGE(poller().requests.size() == 1,
                "no second poll while the first is unanswered");
  release(ok_result());
  CHECK(status().polls == 1);
  CHECK_MESSAGE(poller().requests.size() == 2,
                "the answer came after the next poll was due: poll now");
  CHECK(pending_timers() == 0);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a slow answer does not shift a target's schedule") {
  start(schedule_60s());
  advance(4s);
  release(ok_result());
  CHECK(next_timer() == 56s);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "with once, a resource polls once and stops") {
  script({ok_result(), ok_result()});
  auto s = schedule_60s();
  s.once = true;
  start(s);
  CHECK(poller().requests.size() == 1);
  CHECK(pending_timers() == 0);
  advance(1h);
  CHECK(poller().requests.size() == 1);
  CHECK(status().polls == 1);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a poller that dies under a poll counts as a failed poll") {
  auto die = [](caf::event_based_actor* self,
                caf::exit_reason reason) -> caf::behavior {
    return {[=](poll_atom, const poll_request&) {
      self->quit(reason);
    }};
  };
  auto dying = sys.spawn(die, caf::exit_reason::user_shutdown);
  pollers = caf::actor_cast<poller_actor>(dying);
  start(schedule_60s());
  run();
  CHECK(status().polls == 1);
  CHECK(status().state == target_state::down);
  CHECK(status().status.find("the poller failed") == 0);
  CHECK(next_timer() == 70s);
}

TEST_CASE("the first polls of many targets spread evenly over start-spread") {
  CHECK(start_offset(10s, 0, 4) == 0s);
  CHECK(start_offset(10s, 1, 4) == 2500ms);
  CHECK(start_offset(10s, 3, 4) == 7500ms);
  CHECK(start_offset(0s, 3, 4) == 0s);
  CHECK_MESSAGE(start_offset(1h, 99'999, 100'000) == 1h - 36ms,
                "no overflow with many targets and a long spread");
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a resource's first poll waits for its start offset, and "
                  "later polls keep that phase") {
  script({ok_result(), ok_result()});
  start(schedule_60s(), 2500ms);
  CHECK(poller().requests.empty());
  advance(2490ms);
  CHECK(poller().requests.empty());
  advance(10ms);
  REQUIRE(poller().requests.size() == 1);
  CHECK(next_timer() == 60s);
}

TEST_CASE_FIXTURE(resource_fixture,
                  "a poll request carries its due time and connection mode") {
  script({ok_result()});
  auto s = schedule_60s();
  s.fresh_connection = true;
  auto before = caf::make_timestamp();
  start(s);
  REQUIRE(poller().requests.size() == 1);
  auto& request = poller().requests[0];
  CHECK(request.fresh_connection);
  CHECK(request.due >= before - 1s);
  CHECK(request.due <= caf::make_timestamp());
}

TEST_CASE_FIXTURE(resource_fixture,
                  "while failing, a target is polled every retry-interval") {
  script({refused_result(), refused_result(), ok_result(), ok_result()});
  auto s = schedule_60s();
  s.retry_interval = 5s;
  CHECK(next_delay(s, 0) == 60s);
  CHECK(next_delay(s, 3) == 5s);
  start(s);
  CHECK(next_timer() == 5s);
  advance(5s);
  CHECK(poller().requests.size() == 2);
  CHECK(next_timer() == 5s);
  advance(5s);
  CHECK(poller().requests.size() == 3);
  CHECK(status().state == target_state::up);
  CHECK(next_timer() == 60s);
}
