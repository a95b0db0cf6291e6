// The fleet's bookkeeping on CAF's test coordinator: which targets a plan
// adds, changes, replaces and removes, and that an unchanged target keeps
// its actor and its schedule phase.
#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "actors/fleet.hpp"
#include "actors/state_monitor.hpp"
#include "actors/timer_wheel.hpp"
#include "support/actor_fixtures.hpp"
#include "support/mock_poller.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

// Asks the fleet to apply `plan` and keeps its answer in `out`.
void ask(caf::event_based_actor* self, fleet_actor fleet, fleet_plan plan,
         fleet_change* out) {
  self->request(fleet, caf::infinite, apply_atom_v, std::move(plan))
    .then([=](fleet_change change) { *out = change; });
}

std::shared_ptr<const target_rules> every(caf::timespan interval) {
  auto rules = std::make_shared<target_rules>();
  rules->schedule.interval = interval;
  return rules;
}

struct fleet_fixture : deterministic_fixture {
  mock_poller_actor mock = sys.spawn(mock_poller, std::deque<poll_result>{});
  state_monitor_actor monitor = sys.spawn(state_monitor, monitor_targets{},
                                          caf::timespan{0}, monitor_output{});
  timer_wheel_actor wheel = sys.spawn(timer_wheel, caf::timespan{10ms});
  fleet_actor fleet =
    sys.spawn(urlpoll::fleet, resource_peers{mock, monitor, wheel});

  fleet_fixture() {
    // Every poll answers at once, up to a bound that no test reaches.
    for (int i = 0; i < 1000; ++i)
      poller().script.push_back(ok_result());
  }

  ~fleet_fixture() {
    caf::anon_send_exit(fleet, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(mock, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(wheel, caf::exit_reason::user_shutdown);
    run();
  }

  fleet_change apply(std::vector<fleet_target> targets) {
    fleet_plan plan;
    plan.targets = std::move(targets);
    fleet_change change;
    sys.spawn(ask, fleet, std::move(plan), &change);
    run();
    return change;
  }

  mock_poller_state& poller() { return state_of<mock_poller_state>(mock); }

  state_monitor_state& monitored() {
    return state_of<state_monitor_state>(monitor);
  }

  fleet_state::member& member(const std::string& name) {
    return state_of<fleet_state>(fleet).targets.at(name);
  }

  resource_state& resource_of(const std::string& name) {
    return state_of<resource_state>(member(name).actor);
  }

  /// Polls of `url` so far.
  size_t polls_of(const std::string& url) {
    auto& r = poller().requests;
    return static_cast<size_t>(
      std::count_if(r.begin(), r.end(), [&](auto& x) { return x.url == url; }));
  }
};

} // namespace

TEST_CASE("the fleet starts every target of its first plan under an id of "
          "its own, and the monitor learns them in configuration order") {
  fleet_fixture f;
  auto change = f.apply({{"b", "http://b/", every(60s), 0},
                         {"", "http://u:pw@a/", every(60s), 0},
                         {"c", "http://c/", every(60s), 0}});
  CHECK(change.added == 3);
  CHECK(change.unchanged + change.changed + change.removed == 0);
  auto& m = f.monitored();
  REQUIRE(m.targets.size() == 3);
  CHECK(m.targets[0].name == "b");
  CHECK(m.targets[1].url == "http://u:***@a/");
  CHECK(m.targets[2].name == "c");
  CHECK(m.ids[0] != m.ids[1]);
  CHECK(m.ids[1] != m.ids[2]);
  CHECK(m.ids[0] != m.ids[2]);
  // With no start spread, every first poll is due at once.
  CHECK(f.polls_of("http://b/") == 1);
  CHECK(f.polls_of("http://u:pw@a/") == 1);
  CHECK(m.targets[1].polls == 1);
}

TEST_CASE("a reload keeps an unchanged target's actor and next due time, and "
          "a shorter interval takes effect at once") {
  fleet_fixture f;
  f.apply({{"same", "http://same/", every(60s), 0},
           {"faster", "http://faster/", every(60s), 0}});
  auto actor = f.member("same").actor;
  auto next_due = f.resource_of("same").next_due;
  auto faster_last_due = f.resource_of("faster").next_due - 60s;
  f.advance(20s);
  auto change = f.apply({{"same", "http://same/", every(60s), 0},
                         {"faster", "http://faster/", every(30s), 0},
                         {"new", "http://new/", every(60s), 0}});
  CHECK(change.unchanged == 1);
  CHECK(change.changed == 1);
  CHECK(change.added == 1);
  CHECK(f.member("same").actor == actor);
  CHECK(f.resource_of("same").next_due == next_due);
  CHECK(f.monitored().targets[0].polls == 1);
  // The faster target's next poll is one new interval after its last one:
  // 30s after start, not 60s.
  CHECK(f.resource_of("faster").next_due == faster_last_due + 30s);
  f.advance(10s + 20ms);
  CHECK(f.polls_of("http://faster/") == 2);
  CHECK(f.polls_of("http://same/") == 1);
  // The wake-up asked for under the old interval starts no extra poll.
  f.advance(30s);
  CHECK(f.polls_of("http://faster/") == 3);
  CHECK(f.polls_of("http://same/") == 2);
}

TEST_CASE("a new URL under a known name is a new target that starts at "
          "unknown, and a name that is gone stops polling") {
  fleet_fixture f;
  f.apply({{"api", "http://old/", every(60s), 0},
           {"gone", "http://gone/", every(60s), 0}});
  auto old_id = f.member("api").id;
  CHECK(f.monitored().targets[0].state == target_state::up);
  auto change = f.apply({{"api", "http://new/", every(60s), 0}});
  CHECK(change.replaced == 1);
  CHECK(change.removed == 1);
  CHECK(f.member("api").id != old_id);
  auto& m = f.monitored();
  REQUIRE(m.targets.size() == 1);
  CHECK(m.targets[0].url == "http://new/");
  REQUIRE(m.history[0].size() >= 2);
  // Its history: up at the old URL, the change, up at the new one.
  auto& polled = m.history[0].back();
  CHECK(polled.from == target_state::unknown);
  CHECK(polled.to == target_state::up);
  auto& changed = m.history[0][m.history[0].size() - 2];
  CHECK(changed.from == target_state::up);
  CHECK(changed.to == target_state::unknown);
  CHECK(changed.status == "the URL changed to http://new/");
  f.advance(5min);
  CHECK(f.polls_of("http://old/") == 1);
  CHECK(f.polls_of("http://gone/") == 1);
  CHECK(f.polls_of("http://new/") > 1);
}

TEST_CASE("changed state rules count as a change and keep the target's "
          "resource") {
  fleet_fixture f;
  fleet_plan plan;
  plan.targets = {{"api", "http://api/", every(60s), 0}};
  auto actor = [&] {
    f.apply(plan.targets);
    return f.member("api").actor;
  }();
  fleet_plan stricter;
  stricter.targets = {{"api", "http://api/", every(60s), 1}};
  state_rules three;
  three.failure_threshold = 3;
  stricter.state_rule_sets = {state_rules{}, three};
  fleet_change change;
  f.sys.spawn(ask, f.fleet, stricter, &change);
  f.run();
  CHECK(change.changed == 1);
  CHECK(f.member("api").actor == actor);
  CHECK(
    f.monitored().rule_sets.at(f.monitored().rules.at(0)).failure_threshold ==
    3);
}

TEST_CASE("a named target whose show-query changed stays the same target, "
          "its URL shown anew") {
  fleet_fixture f;
  auto hidden = every(60s);
  f.apply({{"api", "http://api/?key=s3cret", hidden, 0}});
  auto& m = f.monitored();
  REQUIRE(m.targets.size() == 1);
  CHECK(m.targets[0].url == "http://api/?key=***");
  auto id = m.ids[0];
  auto actor = f.member("api").actor;
  auto polls = m.targets[0].polls;
  auto shown = std::make_shared<target_rules>(*hidden);
  shown->show_query = true;
  auto change = f.apply({{"api", "http://api/?key=s3cret", shown, 0}});
  CHECK(change.changed == 1);
  CHECK(f.member("api").actor == actor);
  REQUIRE(f.monitored().targets.size() == 1);
  CHECK(f.monitored().ids[0] == id);
  CHECK(f.monitored().targets[0].url == "http://api/?key=s3cret");
  CHECK(f.monitored().targets[0].polls == polls);
  change = f.apply({{"api", "http://api/?key=s3cret", hidden, 0}});
  CHECK(change.changed == 1);
  CHECK(f.monitored().targets[0].url == "http://api/?key=***");
}

TEST_CASE("a target whose URL changed starts a new flapping window: the "
          "changes of its old URL do not count") {
  fleet_fixture f;
  f.apply({{"api", "http://one/", every(60s), 0}});
  f.apply({{"api", "http://two/", every(60s), 0}});
  f.apply({{"api", "http://one/", every(60s), 0}});
  f.apply({{"api", "http://two/", every(60s), 0}});
  auto& m = f.monitored();
  REQUIRE(m.targets.size() == 1);
  // Seven state changes within the flap window (unknown -> up, then up ->
  // unknown -> up three times), past the default threshold of 5; yet only
  // one belongs to this URL.
  REQUIRE(m.history[0].size() == 7);
  CHECK(m.targets[0].state == target_state::up);
  CHECK_FALSE(m.targets[0].flapping);
}

TEST_CASE("a big plan starts its resources a chunk at a time, each first poll "
          "due at its place in the spread from the apply") {
  fleet_fixture f;
  fleet_plan plan;
  auto n = start_chunk * 2 + start_chunk / 2;
  for (size_t i = 0; i < n; ++i)
    plan.targets.push_back(
      {"", "http://t" + std::to_string(i) + "/", every(60s), 0});
  plan.start_spread = 25s;
  fleet_change change;
  f.sys.spawn(ask, f.fleet, std::move(plan), &change);
  f.run();
  CHECK(change.added == n);
  auto started = [&] {
    size_t count = 0;
    for (auto& [name, m] : f.state_of<fleet_state>(f.fleet).targets)
      count += m.actor ? 1 : 0;
    return count;
  };
  CHECK_MESSAGE(started() == start_chunk,
                "the other actors get a turn before the next chunk");
  CHECK_MESSAGE(f.monitored().targets.size() == n,
                "the monitor knows every target before the first poll");
  auto origin = f.state_of<fleet_state>(f.fleet).spread_origin;
  f.advance(1ms);
  CHECK(started() == 2 * start_chunk);
  f.advance(1ms);
  CHECK(started() == n);
  // 10 ms apart: 25 s over 2,500 targets, counted from the apply.
  auto& last = f.resource_of("http://t" + std::to_string(n - 1) + "/");
  CHECK(last.next_due == origin + 10ms * static_cast<int64_t>(n - 1));
  auto& first_of_third =
    f.resource_of("http://t" + std::to_string(2 * start_chunk) + "/");
  CHECK(first_of_third.next_due ==
        origin + 10ms * static_cast<int64_t>(2 * start_chunk));
}
