#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "actors/history_model.hpp"
#include "actors/state_monitor.hpp"
#include "support/actor_fixtures.hpp"
#include "support/mock_poller.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

struct monitor_fixture : deterministic_fixture {
  /// The system clock the monitors read: it moves with the test clock.
  caf::timestamp wall0 = from_ms(1'800'000'000'000);
  caf::actor_clock::time_point steady0 = sched.clock().now();
  std::vector<snapshot> printed;
  std::vector<std::string> failed;
  std::vector<transition> changes;
  std::vector<state_monitor_actor> monitors;

  // Stop the monitors while the vectors their output writes to still exist.
  ~monitor_fixture() {
    for (auto& m : monitors)
      caf::anon_send_exit(m, caf::exit_reason::user_shutdown);
    run();
  }

  state_monitor_actor
  start(caf::timespan status_interval,
        monitor_targets what = plain_targets({"http://a/", "http://b/"})) {
    monitor_output out;
    out.transition = [this](const transition& x) {
      changes.push_back(x);
    };
    out.status = [this](snapshot x, state_monitor_actor) {
      printed.push_back(std::move(x));
    };
    out.failure = [this](const target_status& x) {
      failed.push_back(x.url + ": " + x.status);
    };
    out.clock = [this] {
      return wall();
    };
    auto m = sys.spawn(state_monitor, std::move(what), status_interval,
                       std::move(out));
    monitors.push_back(m);
    run();
    return m;
  }

  caf::timestamp wall() const {
    return wall0 + (sched.clock().now() - steady0);
  }

  void polled(const state_monitor_actor& m, target_id id, poll_result r) {
    caf::anon_send(m, polled_atom_v, id, std::move(r));
    run();
  }

  /// Asks `m` with `request` and keeps the answer once it comes.
  template <class... Request>
  std::shared_ptr<std::optional<snapshot>> ask(const state_monitor_actor& m,
                                               Request... request) {
    auto answer = std::make_shared<std::optional<snapshot>>();
    auto asker = [](caf::event_based_actor* self, state_monitor_actor m,
                    std::shared_ptr<std::optional<snapshot>> answer,
                    Request... request) {
      self->request(m, caf::infinite, request...).then([=](snapshot& x) {
        *answer = std::move(x);
      });
    };
    sys.spawn(asker, m, answer, request...);
    run();
    return answer;
  }

  /// Target `name`, as GET /api/v1/targets/NAME shows it.
  target_detail detail(const state_monitor_actor& m, std::string name) {
    auto answer = std::make_shared<target_detail>();
    auto asker = [](caf::event_based_actor* self, state_monitor_actor m,
                    std::shared_ptr<target_detail> answer, std::string name) {
      self->request(m, caf::infinite, caf::get_atom_v, name)
        .then([=](target_detail& x) { *answer = std::move(x); });
    };
    sys.spawn(asker, m, answer, std::move(name));
    run();
    return *answer;
  }
};

struct fake_history_state {
  std::map<target_id, std::vector<state_change>> changes;
  std::map<std::string, target_id> ids;
  int64_t started = 0;
  bool answered = false;
};

// The history as the state monitor meets it: it takes each batch and
// answers with the uptime bases of the targets named or changed, computed
// as the history does (from the transitions, the run beginning when it
// was spawned); `silent`: only the first time.
caf::behavior fake_history(caf::stateful_actor<fake_history_state>* self,
                           state_monitor_actor monitor,
                           std::function<caf::timestamp()> wall, bool silent) {
  self->state.started = to_ms(wall());
  return {
    [=](history_batch& b) {
      auto& st = self->state;
      auto now = to_ms(wall());
      std::vector<target_id> changed;
      for (auto& [id, name] : b.named) {
        st.ids[name] = id;
        changed.push_back(id);
      }
      for (auto& t : b.transitions)
        if (t.from != t.to) {
          auto id = st.ids.at(t.target);
          st.changes[id].push_back(state_change{to_ms(t.time), t.to});
          changed.push_back(id);
        }
      if (silent && st.answered)
        return;
      st.answered = true;
      uptime_update update;
      for (auto id : changed) {
        auto& c = st.changes[id];
        auto open = std::max(c.empty() ? st.started : c.back().ms, st.started);
        update.bases.emplace_back(id,
                                  basis_at(c, {{st.started, now}}, open, now));
      }
      self->send(monitor, uptime_atom_v, std::move(update));
    },
  };
}

} // namespace

TEST_CASE_FIXTURE(monitor_fixture,
                  "every target is unknown until its first result") {
  auto m = start(0s);
  auto answer = ask(m, caf::get_atom::value, status_query{});
  REQUIRE(answer->has_value());
  auto& x = **answer;
  REQUIRE(x.targets.size() == 2);
  CHECK(x.targets[0].url == "http://a/");
  CHECK(x.targets[0].state == target_state::unknown);
  CHECK(x.targets[1].state == target_state::unknown);
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "results update the status map and snapshots copy it") {
  auto m = start(0s);
  polled(m, 1, refused_result());
  polled(m, 0, ok_result());
  polled(m, 1, refused_result());
  auto answer = ask(m, caf::get_atom::value, status_query{});
  auto& x = **answer;
  CHECK(x.targets[0].state == target_state::up);
  CHECK(x.targets[0].status == "200 OK");
  CHECK(x.targets[1].state == target_state::down);
  CHECK(x.targets[1].polls == 2);
  CHECK(x.targets[1].consecutive_failures == 2);
  CHECK_MESSAGE(state_of<state_monitor_state>(m).targets[1].polls == 2,
                "the monitor keeps its own map");
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "all_polled is answered once every target has a result") {
  auto m = start(0s);
  auto answer = ask(m, all_polled_atom::value);
  CHECK_FALSE(answer->has_value());
  polled(m, 0, ok_result());
  polled(m, 0, ok_result());
  CHECK_FALSE(answer->has_value());
  polled(m, 1, refused_result());
  REQUIRE(answer->has_value());
  CHECK((*answer)->counts.down == 1);
  CHECK_MESSAGE((*answer)->targets.empty(), "the head, without targets");
  auto later = ask(m, all_polled_atom::value);
  CHECK_MESSAGE(later->has_value(), "answered at once when all have results");
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "the status is printed every status interval") {
  auto m = start(10s);
  CHECK(printed.empty());
  advance(10s);
  REQUIRE(printed.size() == 1);
  CHECK(printed[0].counts.unknown == 2);
  CHECK_MESSAGE(printed[0].targets.empty(),
                "the head only: the printer asks for the targets a page at "
                "a time");
  polled(m, 0, ok_result());
  advance(10s);
  REQUIRE(printed.size() == 2);
  CHECK(printed[1].counts.up == 1);
}

TEST_CASE_FIXTURE(monitor_fixture, "each failed poll is reported once") {
  auto m = start(0s);
  polled(m, 0, ok_result());
  polled(m, 1, refused_result());
  polled(m, 1, refused_result());
  CHECK(failed == std::vector<std::string>{"http://b/: connection refused",
                                           "http://b/: connection refused"});
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "a result for an unknown target is ignored") {
  auto m = start(0s);
  polled(m, 7, ok_result());
  CHECK(state_of<state_monitor_state>(m).targets[0].polls == 0);
  CHECK(state_of<state_monitor_state>(m).unpolled == 2);
}

TEST_CASE("lateness is summarized as p50, p99 and max") {
  std::vector<caf::timespan> samples;
  for (int i = 1; i <= 1000; ++i)
    samples.push_back(std::chrono::milliseconds{i});
  auto x = summarize(samples);
  CHECK(x.samples == 1000);
  CHECK(x.p50 == 500ms);
  CHECK(x.p99 == 990ms);
  CHECK(x.max == 1000ms);
  CHECK(summarize({}).samples == 0);
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "snapshots report the lateness of the recent polls") {
  auto m = start(0s);
  for (int i = 0; i < 100; ++i) {
    auto r = ok_result();
    r.lateness = std::chrono::milliseconds{i < 98 ? 1 : 40};
    polled(m, i % 2, r);
  }
  auto answer = ask(m, caf::get_atom::value, status_query{});
  auto& lateness = (*answer)->lateness;
  CHECK(lateness.samples == 100);
  CHECK(lateness.p50 == 1ms);
  CHECK(lateness.p99 == 40ms);
  CHECK(lateness.max == 40ms);
}

TEST_CASE_FIXTURE(monitor_fixture, "each target follows its own rules, and "
                                   "every transition goes to the output") {
  auto what = plain_targets({"http://a/", "http://b/"});
  what.targets[0].name = "api";
  state_rules strict;
  strict.failure_threshold = 2;
  what.rule_sets = {state_rules{}, strict};
  what.rules = {1, 0};
  auto m = start(0s, std::move(what));
  polled(m, 0, refused_result());
  polled(m, 1, refused_result());
  CHECK(changes.size() == 1);
  CHECK(changes[0].target == "http://b/");
  CHECK(changes[0].to == target_state::down);
  CHECK(failed.size() == 2);
  polled(m, 0, refused_result());
  REQUIRE(changes.size() == 2);
  CHECK(changes[1].target == "api");
  CHECK(changes[1].from == target_state::unknown);
  CHECK(changes[1].to == target_state::down);
  auto& st = state_of<state_monitor_state>(m);
  CHECK(st.history[0].size() == 1);
  CHECK(st.history[1].size() == 1);
  CHECK(st.targets[0].state == target_state::down);
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "a page of problems lists down, degraded, flapping, "
                  "unknown, then up, each in configuration order, cut at the "
                  "limit, and counts every match") {
  std::vector<std::string> urls;
  for (int i = 0; i < 10; ++i)
    urls.push_back("http://t" + std::to_string(i) + "/");
  auto m = start(0s, plain_targets(urls));
  // 0..3 up, 4 and 7 down, 8 and 9 unknown, the rest up.
  for (target_id i = 0; i < 8; ++i)
    polled(m, i, i == 4 || i == 7 ? refused_result() : ok_result());
  status_query q;
  q.problems_first = true;
  q.limit = 3;
  auto page = ask(m, caf::get_atom::value, q);
  REQUIRE(page->has_value());
  auto& x = **page;
  CHECK(x.page.matched == 10);
  REQUIRE(x.targets.size() == 3);
  CHECK(x.targets[0].url == "http://t4/");
  CHECK(x.targets[1].url == "http://t7/");
  CHECK(x.targets[2].url == "http://t8/");
  CHECK(x.counts.down == 2);
  CHECK(x.counts.unknown == 2);
  q.state = "not-up";
  q.offset = 3;
  auto rest = ask(m, caf::get_atom::value, q);
  CHECK((*rest)->page.matched == 4);
  REQUIRE((*rest)->targets.size() == 1);
  CHECK((*rest)->targets[0].url == "http://t9/");
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "a page of ids, then the targets a slice of ids at a time, "
                  "without those that left meanwhile") {
  auto m = start(0s, plain_targets({"http://a/", "http://b/", "http://c/"}));
  polled(m, 1, refused_result());
  status_query q;
  q.ids_only = true;
  auto head = ask(m, caf::get_atom::value, q);
  REQUIRE(head->has_value());
  CHECK((*head)->targets.empty());
  CHECK((*head)->ids == std::vector<target_id>{0, 1, 2});
  CHECK((*head)->counts.down == 1);
  status_query slice;
  slice.ids = {2, 1, 7};
  auto part = ask(m, caf::get_atom::value, slice);
  REQUIRE(part->has_value());
  REQUIRE((*part)->targets.size() == 2);
  CHECK((*part)->targets[0].url == "http://c/");
  CHECK((*part)->targets[1].url == "http://b/");
  CHECK((*part)->targets[1].state == target_state::down);
  CHECK_MESSAGE((*part)->counts.targets == 0, "a slice has no head");
}

TEST_CASE_FIXTURE(monitor_fixture,
                  "uptime counts the state up to the moment of the answer: "
                  "up 7 s then down 3 s reads 0.7, in every output, without "
                  "waiting for the history") {
  auto silent = false;
  SUBCASE("the history sends a basis at every change") {
    silent = false;
  }
  SUBCASE("the history sends only its first basis") {
    silent = true;
  }
  auto m = start(0s, plain_targets({"http://a/"}));
  auto history = sys.spawn(fake_history, m, std::function{[this] {
                             return wall();
                           }},
                           silent);
  caf::anon_send(m, resume_atom_v, caf::actor_cast<history_actor>(history),
                 std::shared_ptr<const history_resume>{});
  run();
  auto figures = [&] {
    auto page = ask(m, caf::get_atom_v, status_query{});
    REQUIRE(page->has_value());
    REQUIRE((*page)->targets.size() == 1);
    auto x = (*page)->targets[0].uptime;
    auto one = detail(m, "http://a/");
    REQUIRE(one.found);
    CHECK_MESSAGE(one.status.uptime == x,
                  "a target's detail shows the figures of the status");
    return x;
  };
  CHECK_MESSAGE(figures()[0] < 0, "no figures before the history's basis");
  auto up = ok_result();
  up.time = wall();
  polled(m, 0, up);
  for (int i = 0; i < 7; ++i)
    advance(1s);
  auto down = refused_result();
  down.time = wall();
  polled(m, 0, down);
  advance(500ms);
  // The history has not heard of the change yet.
  auto seven_of = [](double seconds) {
    auto x = static_cast<float>(7.0 / seconds);
    return uptime_figures{x, x, x, x};
  };
  CHECK(figures() == seven_of(7.5));
  advance(500ms);
  advance(2s);
  CHECK(figures() == seven_of(10));
  CHECK(figures()[0] == 0.7f);
}
