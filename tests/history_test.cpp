// The history: uptime by time and the aggregates as pure functions, the
// SQLite store on real files (refusals, migration, roll-up), and real
// urlpoll processes that stop, crash and start again.
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/history_model.hpp"
#include "actors/history_store.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_history.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t minute = 60'000;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

// Why the store refuses `where`; fails the test, saying `opened`, when it
// opens it.
std::string refusal(const std::string& where, const char* opened) {
  try {
    history_store store{where};
  } catch (const history_error& e) {
    return e.what();
  }
  FAIL(opened);
  return {};
}

// A history at `where` holding one transition of target "api", for a test
// to take back to an older schema.
void write_one_transition(const std::string& where) {
  history_store store{where};
  store.begin();
  transition t;
  t.time = caf::make_timestamp();
  t.target = "api";
  t.to = target_state::up;
  store.add_transition(store.target("api"), t);
  store.commit();
}

// Opened again, the history at `where` is of this build's schema and still
// holds the transition of write_one_transition.
void check_migrated(const std::string& where) {
  history_store store{where};
  CHECK(store.schema_version() == history_schema_version);
  CHECK(store.open_alerts().empty());
  CHECK(
    store.transitions(store.target("api"), "api", 0, INT64_MAX, 10).size() ==
    1);
}

} // namespace

// -- uptime by time -----------------------------------------------------------

TEST_CASE("uptime is the time up or degraded over the time known, with the "
          "time urlpoll was stopped as no data") {
  int64_t t0 = 1'000 * minute;
  // Up 30 min, down 15 min, degraded from then on; urlpoll ran for the
  // first 50 minutes and again from minute 55 to 70.
  std::vector<state_change> changes{{t0, target_state::up},
                                    {t0 + 30 * minute, target_state::down},
                                    {t0 + 45 * minute, target_state::degraded}};
  std::vector<run_span> runs{{t0, t0 + 50 * minute},
                             {t0 + 55 * minute, t0 + 70 * minute}};
  auto x = time_up(changes, runs, t0, t0 + 70 * minute);
  CHECK(x.known_ms == 65 * minute);
  // 30 up, then 5 and 15 degraded.
  CHECK(x.up_ms == 50 * minute);
  CHECK(x.ratio() == doctest::Approx(50.0 / 65.0));
  // A window inside the outage: all known, none up.
  CHECK(time_up(changes, runs, t0 + 31 * minute, t0 + 44 * minute).ratio() ==
        0.0);
  // A window while urlpoll was stopped: no data, not zero.
  CHECK(time_up(changes, runs, t0 + 51 * minute, t0 + 54 * minute).ratio() < 0);
  // Before the first known state: no data.
  CHECK(time_up(changes, runs, t0 - 10 * minute, t0).ratio() < 0);
  // A state back to unknown (removed, URL changed) is no data either.
  changes.push_back({t0 + 60 * minute, target_state::unknown});
  auto y = time_up(changes, runs, t0 + 55 * minute, t0 + 70 * minute);
  CHECK(y.known_ms == 5 * minute);
  CHECK(y.ratio() == 1.0);
}

TEST_CASE("the 1h, 24h, 7d and 30d figures, and pruning keeps the state at "
          "the cutoff") {
  int64_t now = 100 * ms_per_day;
  std::vector<state_change> changes{{now - 40 * ms_per_day, target_state::up},
                                    {now - 30 * minute, target_state::down}};
  std::vector<run_span> runs{{now - 40 * ms_per_day, now}};
  auto figures = uptime_at(changes, runs, now);
  CHECK(figures[0] == doctest::Approx(0.5));
  CHECK(figures[1] == doctest::Approx(1.0 - 30.0 / (24 * 60)));
  CHECK(figures[3] == doctest::Approx(1.0 - 30.0 / (30 * 24 * 60)));
  prune(changes, now - longest_window_ms);
  REQUIRE(changes.size() == 2);
  CHECK(uptime_at(changes, runs, now) == figures);
  changes.insert(changes.begin(),
                 state_change{now - 50 * ms_per_day, target_state::down});
  prune(changes, now - longest_window_ms);
  CHECK(changes.size() == 2);
  CHECK(changes.front().ms == now - 40 * ms_per_day);
}

TEST_CASE("an uptime basis tells the exact figures at every later moment: "
          "the open interval up to it, and what slid out of each window") {
  using ts = target_state;
  int64_t t0 = 1'000 * ms_per_day;
  // Changes near each window's start, a restart a week ago, and after the
  // open interval began (t0 - 10 min) changes the history has not heard of
  // yet (the state monitor's last second).
  std::vector<state_change> all{{t0 - 40 * ms_per_day, ts::up},
                                {t0 - ms_per_day - 20'000, ts::down},
                                {t0 - ms_per_day - 5'000, ts::up},
                                {t0 - ms_per_hour - 3'000, ts::down},
                                {t0 - ms_per_hour + 4'000, ts::degraded},
                                {t0 - ms_per_hour + 6'000, ts::up},
                                {t0 - ms_per_hour + 9'000, ts::down},
                                {t0 - ms_per_hour + 9'500, ts::up},
                                {t0 - 10 * minute, ts::down},
                                {t0 + 2'000, ts::up},
                                {t0 + 5'000, ts::unknown},
                                {t0 + 6'000, ts::down}};
  size_t known = 9;
  std::vector<state_change> heard(all.begin(), all.begin() + known);
  // What the state monitor holds: its transitions, oldest first (one that
  // changed only the flapping flag among them), and the state now.
  std::vector<transition> recent;
  for (size_t i = 1; i < all.size(); ++i) {
    transition t;
    t.time = from_ms(all[i].ms);
    t.from = all[i - 1].to;
    t.to = all[i].to;
    recent.push_back(t);
    if (i == known) {
      t.time += 100ms;
      t.from = t.to;
      recent.push_back(t);
    }
  }
  auto started = t0 - 7 * ms_per_day + 8'000;
  auto runs_until = [&](int64_t now) {
    return std::vector<run_span>{
      {t0 - 40 * ms_per_day, t0 - 7 * ms_per_day + 3'000}, {started, now}};
  };
  auto open = std::max(heard.back().ms, started);
  // As the history does: a basis, and another when it is due.
  auto at = t0;
  size_t bases = 0;
  while (at < t0 + 12'000) {
    auto basis = basis_at(heard, runs_until(at), open, at);
    ++bases;
    auto due = std::min(refresh_due(basis), t0 + 12'000);
    REQUIRE(due > at);
    for (auto now = at; now < due; now += 250) {
      CAPTURE(now - t0);
      CHECK(uptime_now(basis, recent, ts::down, now) ==
            uptime_at(all, runs_until(now), now));
    }
    at = due;
  }
  CHECK_MESSAGE(bases >= 4, "the 1h and 7d windows' starts passed changes "
                            "and a run's edge");
  CHECK(uptime_now(uptime_basis{}, recent, ts::down, t0)[0] < 0);
}

TEST_CASE("an hour's aggregate: answers by state, latency percentiles within "
          "a bucket, and the histogram as stored") {
  aggregate a;
  for (uint32_t ms = 1; ms <= 100; ++ms) {
    poll_sample x;
    x.verdict = ms <= 90 ? target_state::up : target_state::down;
    x.answered = true;
    x.latency_us = ms * 1000;
    a.add(x);
  }
  poll_sample lost;
  lost.verdict = target_state::down;
  a.add(lost);
  a.spend(target_state::up, 45 * minute);
  a.spend(target_state::down, 15 * minute);
  auto p = a.point(caf::timestamp{});
  CHECK(p.polls == 101);
  CHECK(p.up == 90);
  CHECK(p.down == 11);
  CHECK(p.latency_count == 100);
  CHECK(p.latency_min_us == 1000);
  CHECK(p.latency_max_us == 100'000);
  CHECK(p.latency_avg_us == doctest::Approx(50'500));
  // Buckets are 2^(1/4) apart: within 19% of the true quantile.
  CHECK(p.latency_p50_us == doctest::Approx(50'000).epsilon(0.19));
  CHECK(p.latency_p95_us == doctest::Approx(95'000).epsilon(0.19));
  CHECK(p.latency_p99_us == doctest::Approx(99'000).epsilon(0.19));
  CHECK(a.uptime() == doctest::Approx(0.75));
  auto stored = a.latency.encode();
  CHECK(stored.size() < 40);
  auto back = latency_digest::decode(stored.data(), stored.size());
  CHECK(back.bins == a.latency.bins);
  // As stored: whole seconds, the sum in 10 us, fields that are 0 left out.
  auto row = encode(a);
  CHECK(row.size() < 64);
  auto read = decode_aggregate(row.data(), row.size());
  auto q = read.point(caf::timestamp{});
  CHECK(q.polls == p.polls);
  CHECK(q.up == 90);
  CHECK(q.down == 11);
  CHECK(q.latency_count == 100);
  CHECK(q.latency_avg_us == p.latency_avg_us);
  CHECK(q.latency_p95_us == p.latency_p95_us);
  CHECK(q.up_seconds == 45 * 60);
  CHECK(q.down_seconds == 15 * 60);
  // A day keeps its percentiles without the histogram.
  auto day = a;
  day.keep_percentiles_only();
  auto kept = encode(day);
  CHECK(kept.size() < row.size());
  auto back_day = decode_aggregate(kept.data(), kept.size()).point({});
  CHECK(back_day.latency_p50_us == p.latency_p50_us);
  CHECK(back_day.latency_p99_us == p.latency_p99_us);
  aggregate b = a;
  b.merge(a);
  CHECK(b.point(caf::timestamp{}).polls == 202);
  CHECK(b.latency.quantile(0.5, 1000, 100'000) == p.latency_p50_us);
}

// -- the store ----------------------------------------------------------------

TEST_CASE("the history database refuses what is not its own, and changes "
          "nothing in it") {
  temp_dir dir;
  SUBCASE("a file that is not a database") {
    std::string garbage(8192, 'x');
    auto path = dir.write("notes.db", garbage);
    auto why = refusal(path, "opened a file of garbage");
    CHECK(contains(why, path));
    CHECK(contains(why, "not a SQLite database"));
    CHECK(contains(why, "urlpoll did not change it"));
    CHECK(slurp(path) == garbage);
  }
  SUBCASE("another program's database") {
    auto path = dir.path + "/other.db";
    child make{"/usr/bin/sqlite3",
               {path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"},
               dir.path};
    REQUIRE(make.wait(10s).exit_code == 0);
    auto before = slurp(path);
    auto why = refusal(path, "opened another program's database");
    CHECK(contains(why, "not urlpoll's history"));
    CHECK(slurp(path) == before);
  }
  SUBCASE("a newer schema") {
    auto path = dir.path + "/newer.db";
    { history_store store{path}; }
    child bump{"/usr/bin/sqlite3", {path, "PRAGMA user_version=99;"}, dir.path};
    REQUIRE(bump.wait(10s).exit_code == 0);
    auto why = refusal(path, "opened a newer schema");
    CHECK(contains(why, "schema version is 99"));
    CHECK(contains(why, "newer"));
  }
  SUBCASE("a file another urlpoll holds") {
    auto path = dir.path + "/held.db";
    history_store first{path};
    auto why = refusal(path, "two owners of one database");
    CHECK(contains(why, "another process holds it"));
  }
}

TEST_CASE("an older history schema is migrated, keeping what it holds") {
  temp_dir dir;
  auto path = dir.path + "/old.db";
  write_one_transition(path);
  // Version 1 had no open alerts and no index by time.
  child downgrade{"/usr/bin/sqlite3",
                  {path, "DROP TABLE open_alerts; DROP INDEX "
                         "transitions_by_time; PRAGMA user_version=1;"},
                  dir.path};
  REQUIRE(downgrade.wait(10s).exit_code == 0);
  check_migrated(path);
}

TEST_CASE("hours roll into days: counts add up, histograms merge, the hours "
          "go") {
  temp_dir dir;
  HISTORY_SUBCASES(db, dir.path);
  history_store store{db->where};
  auto day = int64_t{20'000};
  store.begin();
  auto id = store.target("api");
  for (int h = 0; h < 30; ++h) {
    aggregate a;
    poll_sample x;
    x.verdict = target_state::up;
    x.answered = true;
    x.latency_us = 2000;
    a.add(x);
    a.spend(target_state::up, ms_per_hour);
    store.save_hour(id, day * 24 + h, a, true);
  }
  store.commit();
  store.begin();
  CHECK(store.roll_up((day + 1) * 24) == 24);
  store.commit();
  auto days = store.points(id, day * ms_per_day, (day + 2) * ms_per_day, true);
  REQUIRE(days.size() == 2);
  CHECK(days[0].first == day * ms_per_day);
  CHECK(days[0].second.up == 24);
  CHECK(days[0].second.up_ms == ms_per_day);
  CHECK(days[0].second.latency_count == 24);
  // The next day, not rolled yet, from its hours.
  CHECK(days[1].second.up == 6);
  auto hours =
    store.points(id, day * ms_per_day, (day + 2) * ms_per_day, false);
  CHECK(hours.size() == 6);
}

TEST_CASE("a PostgreSQL history refuses a database that is not its own, "
          "refuses a newer schema, and migrates an older one") {
  REQUIRE_POSTGRES();
  postgres_server pg;
  SUBCASE("another program's tables") {
    auto uri = pg.uri("other");
    pg.sql("CREATE TABLE targets(x INTEGER); INSERT INTO targets VALUES (1)",
           "other");
    auto why = refusal(uri, "opened another program's database");
    CHECK(contains(why, "a table 'targets' that is not urlpoll's"));
    CHECK(pg.sql("SELECT count(*) FROM targets", "other") == "1");
  }
  SUBCASE("a newer schema") {
    auto uri = pg.uri();
    { history_store store{uri}; }
    pg.sql("UPDATE urlpoll_meta SET schema_version = 99");
    auto why = refusal(uri, "opened a newer schema");
    CHECK(contains(why, "schema version is 99"));
  }
  SUBCASE("an older schema") {
    auto uri = pg.uri();
    write_one_transition(uri);
    pg.sql("DROP TABLE open_alerts; DROP TABLE coordinators; DROP INDEX "
           "transitions_by_time; UPDATE urlpoll_meta SET schema_version = 1");
    check_migrated(uri);
  }
}
