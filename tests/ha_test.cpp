// The history in PostgreSQL, and coordinator pairs on it: real urlpoll
// processes and a real, throw-away PostgreSQL server (support/
// postgres_server), killed, paused and restarted under them.
#include <csignal>
#include <memory>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"
#include "support/require_postgres.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"
#include "support/waiting.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One target on the server's /switch, polled 5 times a second, and one
// webhook on /hook; a pair that takes over within 3s.
std::vector<std::string> pair_args(const http_server& server,
                                   const std::string& uri,
                                   const std::string& node) {
  return {"--urlpoll.history=" + uri,
          "--urlpoll.node-name=" + node,
          "--urlpoll.targets=[{name=\"shop\", url=\"" + server.url("/switch") +
            "\", interval=200ms}]",
          "--urlpoll.alerts=[{name=\"ops\", url=\"" + server.url("/hook") +
            "\", repeat-interval=0s}]",
          "--urlpoll.error-backoff=100ms",
          "--urlpoll.max-backoff=200ms",
          "--urlpoll.ha-takeover=3s"};
}

int health(running_urlpoll& x) {
  auto res = x.get("/healthz");
  return res ? res->status : -1;
}

std::string shop(running_urlpoll& x, const char* field) {
  return x.status()["targets"][0][field].dump();
}

// A pair on a server of its own: "a" leads with the target up, "b" stands
// by.
struct running_pair {
  running_pair() {
    auto uri = pg.uri();
    leader =
      std::make_unique<running_urlpoll>(dir.path, pair_args(server, uri, "a"));
    REQUIRE(leader->wait_until([](const nlohmann::json& x) {
      return x["targets"][0]["state"] == "up";
    }));
    standby =
      std::make_unique<running_urlpoll>(dir.path, pair_args(server, uri, "b"));
    REQUIRE(eventually([&] { return health(*standby) == 503; }));
  }

  postgres_server pg;
  http_server server;
  temp_dir dir;
  std::unique_ptr<running_urlpoll> leader;
  std::unique_ptr<running_urlpoll> standby;
};

} // namespace

TEST_CASE("when PostgreSQL goes away, urlpoll polls on, says so, keeps "
          "what it could not write and writes it when the database is back, "
          "and alerts wait for it") {
  REQUIRE_POSTGRES();
  postgres_server pg;
  http_server server;
  temp_dir dir;
  running_urlpoll up{dir.path, pair_args(server, pg.uri(), "solo")};
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["state"] == "up"; }));
  pg.stop();
  REQUIRE(up.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "history: cannot write to");
    },
    10s));
  // Past the lease (1.2 s of the 3 s takeover): a standby could lead now,
  // were the database there for it.
  std::this_thread::sleep_for(1500ms);
  server.switch_code = 503;
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["state"] == "down" &&
           x["targets"][0]["consecutive_failures"] >= 5;
  }));
  CHECK(up.status()["history"]["writing"] == false);
  CHECK_MESSAGE(server.hooks().empty(),
                "alerted while no lease held: two coordinators could alert");
  pg.start();
  REQUIRE(up.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "again; what waited in memory is written");
    },
    15s));
  REQUIRE(eventually([&] { return count_of(server.hooks(), "down") == 1; }));
  CHECK(eventually([&] {
    return pg.sql("SELECT count(*) FROM transitions WHERE to_state = 3") ==
             "1" &&
           pg.sql("SELECT count(*) FROM open_alerts") == "1";
  }));
  REQUIRE(up.stop(10s).exit_code == 0);
  CHECK(count_of(server.hooks(), "down") == 1);
}

TEST_CASE("a PostgreSQL history that cannot be reached stops the start-up, "
          "and the error shows no password") {
  temp_dir dir;
  auto r = run_urlpoll({"--urlpoll.history=postgresql://urlpoll:sekret@"
                        "127.0.0.1:1/urlpoll",
                        "--urlpoll.urls=[\"http://127.0.0.1:1/\"]"},
                       dir.path);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "cannot use the history database "
                        "'postgresql://urlpoll@127.0.0.1:1/urlpoll'"));
  CHECK(contains(r.err, "is PostgreSQL running there"));
  CHECK_FALSE(contains(r.err, "sekret"));
  // A URI libpq cannot read, which its message quotes.
  auto bad = run_urlpoll({"--urlpoll.history=postgresql://urlpoll:sekret@"
                          "[127.0.0.1:1/urlpoll",
                          "--urlpoll.urls=[\"http://127.0.0.1:1/\"]"},
                         dir.path);
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "cannot use the history database"));
  CHECK_FALSE(contains(bad.err, "sekret"));
}

TEST_CASE("a coordinator pair: after a kill -9 of the leader during an "
          "outage the standby leads within ha-takeover, the outage is "
          "alerted once and resolved once, and the uptime gap is at most "
          "the takeover") {
  REQUIRE_POSTGRES();
  running_pair p;
  auto& pg = p.pg;
  auto& server = p.server;
  auto& a = p.leader;
  auto& b = *p.standby;
  // The standby says who leads, and load balancers see it stand by.
  REQUIRE(eventually([&] { return b.status()["targets"].size() == 1; }));
  auto standing = b.get("/healthz");
  REQUIRE(standing);
  CHECK(standing->status == 503);
  CHECK(contains(standing->body, "standby: a leads"));
  CHECK(health(*a) == 200);
  CHECK(contains(b.get("/metrics")->body, "\nurlpoll_leader 0\n"));
  CHECK(contains(a->get("/metrics")->body, "\nurlpoll_leader 1\n"));
  CHECK(b.status()["history"]["leader"] == "a");
  // Its history API answers from the database.
  auto changes = b.get("/api/v1/targets/shop/transitions");
  REQUIRE(changes);
  CHECK(changes->status == 200);
  CHECK(contains(changes->body, "\"to\":\"up\""));
  // A reload on a standby checks the files; they apply when it leads.
  b.signal(SIGHUP);
  CHECK(b.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "on a standby: the files are fine (1 target)");
    },
    10s));
  server.switch_code = 503;
  REQUIRE(eventually([&] { return count_of(server.hooks(), "down") == 1; }));
  REQUIRE(eventually(
    [&] { return pg.sql("SELECT count(*) FROM open_alerts") == "1"; }));
  REQUIRE(eventually([&] { return shop(b, "state") == "\"down\""; }));
  auto since = shop(b, "since");
  auto killed = std::chrono::steady_clock::now();
  a->kill();
  REQUIRE(eventually([&] { return health(b) == 200; }, 10s));
  auto took = std::chrono::steady_clock::now() - killed;
  MESSAGE("the standby led "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
          << " ms after the kill");
  CHECK(took <= 3s);
  auto polls = b.status()["targets"][0]["polls"].get<int>();
  REQUIRE(b.wait_until([&](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= polls + 5;
  }));
  CHECK(shop(b, "state") == "\"down\"");
  CHECK(shop(b, "since") == since);
  CHECK_MESSAGE(count_of(server.hooks(), "down") == 1,
                "the new leader alerted the outage again");
  server.switch_code = 200;
  REQUIRE(
    eventually([&] { return count_of(server.hooks(), "resolved") == 1; }));
  polls = b.status()["targets"][0]["polls"].get<int>();
  REQUIRE(b.wait_until([&](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= polls + 5;
  }));
  CHECK(count_of(server.hooks(), "down") == 1);
  CHECK(count_of(server.hooks(), "resolved") == 1);
  // The gap between the runs of the two leaders is the only time not
  // counted in the uptime.
  auto gap = std::stoll(
    pg.sql("SELECT max(started) - min(last_seen) FROM (SELECT started, "
           "last_seen FROM runs ORDER BY id DESC LIMIT 2) AS last_two"));
  MESSAGE("uptime gap " << gap << " ms");
  CHECK(gap >= 0);
  CHECK(gap <= 3000);
}

TEST_CASE("a coordinator pair: a leader paused (SIGSTOP) loses the lead, "
          "and continued (SIGCONT) alerts nothing and stands by") {
  REQUIRE_POSTGRES();
  running_pair p;
  auto& pg = p.pg;
  auto& server = p.server;
  auto& a = *p.leader;
  auto& b = *p.standby;
  auto paused = std::chrono::steady_clock::now();
  a.signal(SIGSTOP);
  REQUIRE(eventually([&] { return health(b) == 200; }, 10s));
  auto took = std::chrono::steady_clock::now() - paused;
  MESSAGE("the standby led "
          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
          << " ms after the leader was paused");
  CHECK(took <= 3s);
  // The outage begins under the new leader, while the old one sleeps with
  // its polls and its alerter due.
  server.switch_code = 503;
  REQUIRE(eventually([&] { return count_of(server.hooks(), "down") == 1; }));
  a.signal(SIGCONT);
  REQUIRE(a.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "starting again as a standby") &&
             contains(err, "standing by");
    },
    10s));
  auto polls = b.status()["targets"][0]["polls"].get<int>();
  REQUIRE(b.wait_until([&](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= polls + 5;
  }));
  CHECK_MESSAGE(count_of(server.hooks(), "down") == 1,
                "the paused leader alerted after the standby took over");
  CHECK(pg.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
               "AND objid = 1970433136 AND granted") == "1");
}

TEST_CASE("a coordinator pair: the database restarted under it: one leads "
          "after, the outage meanwhile is alerted once and resolved once") {
  REQUIRE_POSTGRES();
  running_pair p;
  auto& pg = p.pg;
  auto& server = p.server;
  auto& a = *p.leader;
  auto& b = *p.standby;
  pg.stop();
  // The outage begins once the leader knows the database is away (an alert
  // sent a moment before, and not recorded, the next leader could not
  // know of).
  REQUIRE(a.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "history: cannot write to");
    },
    10s));
  server.switch_code = 503;
  std::this_thread::sleep_for(2500ms);
  pg.start();
  REQUIRE(
    eventually([&] { return count_of(server.hooks(), "down") == 1; }, 15s));
  REQUIRE(eventually(
    [&] {
      return pg.sql("SELECT count(*) FROM pg_locks WHERE locktype = "
                    "'advisory' AND objid = 1970433136 AND granted") == "1";
    },
    10s));
  server.switch_code = 200;
  REQUIRE(
    eventually([&] { return count_of(server.hooks(), "resolved") == 1; }, 15s));
  // A little longer: nothing more comes, from either.
  std::this_thread::sleep_for(2s);
  CHECK(count_of(server.hooks(), "down") == 1);
  CHECK(count_of(server.hooks(), "resolved") == 1);
  if (count_of(server.hooks(), "down") != 1) {
    MESSAGE("a said: " << a.stop(5s).err);
    MESSAGE("b said: " << b.stop(5s).err);
  }
}
