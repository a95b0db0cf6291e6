// A restart loses nothing: real urlpoll processes on one history database,
// stopped with SIGTERM, killed with SIGKILL, and started again; the history
// API and badges; a database that fails while urlpoll runs.
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"
#include "support/test_history.hpp"
#include "support/waiting.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The value of an unlabelled sample in Prometheus text; -1 when absent.
double metric(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

// One line of sqlite3's answer to `sql` on the database at `path`.
std::string query(const std::string& dir, const std::string& path,
                  const std::string& sql) {
  child q{"/usr/bin/sqlite3", {path, sql}, dir};
  auto r = q.wait(10s);
  auto out = r.out;
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

} // namespace

TEST_CASE("a restart resumes each target's state, since, counters and "
          "uptime from the history") {
  http_server server;
  temp_dir dir;
  HISTORY_SUBCASES(h, dir.path);
  std::vector<std::string> args{
    h->option(), "--urlpoll.targets=[{name=\"api\", url=\"" +
                   server.url("/ok") +
                   "\", interval=200ms}, {name=\"broken\", url=\"" +
                   server.url("/unavailable") + "\", interval=200ms}]"};
  nlohmann::json before;
  {
    running_urlpoll up{dir.path, args};
    REQUIRE(up.wait_until([](const nlohmann::json& x) {
      return target(x, "api")["polls"] >= 3 &&
             target(x, "broken")["polls"] >= 1;
    }));
    before = up.status();
    REQUIRE(up.stop(10s).exit_code == 0);
  }
  if (!h->server())
    CHECK(std::filesystem::exists(dir.path + "/urlpoll-history.db"));
  running_urlpoll again{dir.path, args};
  auto now = again.status();
  for (auto name : {"api", "broken"}) {
    auto was = target(before, name);
    auto is = target(now, name);
    CAPTURE(name);
    CHECK(is["state"] == was["state"]);
    CHECK(is["since"] == was["since"]);
    CHECK(is["polls"] >= was["polls"]);
    CHECK(is["failures"] >= was["failures"]);
  }
  // Uptime as soon as the targets are known again: the first run counts.
  REQUIRE(again.wait_until([](const nlohmann::json& x) {
    return !target(x, "api")["uptime"]["1h"].is_null();
  }));
  auto figures = again.status();
  CHECK(target(figures, "api")["uptime"]["1h"] == 1.0);
  CHECK(target(figures, "api")["uptime"]["30d"] == 1.0);
  CHECK(target(figures, "broken")["uptime"]["24h"] == 0.0);
  // The transition of the first run, from the database.
  auto changes = again.get("/api/v1/targets/broken/transitions");
  REQUIRE(changes);
  REQUIRE(changes->status == 200);
  auto list = nlohmann::json::parse(changes->body)["transitions"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["to"] == "down");
  CHECK(list[0]["time"] == target(before, "broken")["since"]);
}

TEST_CASE("an outage across a kill -9 and a restart alerts down once and "
          "resolved once") {
  http_server server;
  temp_dir dir;
  HISTORY_SUBCASES(h, dir.path);
  std::vector<std::string> args{
    h->option(),
    "--urlpoll.targets=[{name=\"shop\", url=\"" + server.url("/switch") +
      "\", interval=200ms}]",
    "--urlpoll.alerts=[{name=\"ops\", url=\"" + server.url("/hook") +
      "\", repeat-interval=0s}]",
    "--urlpoll.error-backoff=100ms", "--urlpoll.max-backoff=200ms"};
  std::string since;
  {
    running_urlpoll up{dir.path, args};
    REQUIRE(up.wait_until([](const nlohmann::json& x) {
      return x["targets"][0]["state"] == "up";
    }));
    server.switch_code = 503;
    REQUIRE(eventually([&] { return count_of(server.hooks(), "down") == 1; }));
    // The open alert is in the database once the webhook has it, the
    // transition within a second (what kill -9 may lose).
    REQUIRE(eventually([&] {
      return h->sql("SELECT count(*) FROM open_alerts") == "1" &&
             h->sql("SELECT count(*) FROM transitions WHERE to_state = 3") ==
               "1";
    }));
    since = up.status()["targets"][0]["since"];
    // A crash: nothing is written on the way out.
    up.kill();
  }
  {
    running_urlpoll up{dir.path, args};
    auto polls = up.status()["targets"][0]["polls"].get<int>();
    REQUIRE(up.wait_until([&](const nlohmann::json& x) {
      return x["targets"][0]["polls"] >= polls + 5;
    }));
    auto x = up.status()["targets"][0];
    CHECK(x["state"] == "down");
    CHECK(x["since"] == since);
    CHECK_MESSAGE(count_of(server.hooks(), "down") == 1,
                  "the outage was alerted again after the restart");
    REQUIRE(up.stop(10s).exit_code == 0);
  }
  // It recovers while urlpoll is stopped.
  server.switch_code = 200;
  running_urlpoll up{dir.path, args};
  REQUIRE(
    eventually([&] { return count_of(server.hooks(), "resolved") == 1; }));
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["state"] == "up"; }));
  // A little longer: nothing more comes.
  REQUIRE(up.wait_until([&](const nlohmann::json& x) {
    return x["targets"][0]["consecutive_successes"] >= 5;
  }));
  CHECK(count_of(server.hooks(), "down") == 1);
  CHECK(count_of(server.hooks(), "resolved") == 1);
  // The alert is closed in the database with the next batch.
  CHECK(eventually(
    [&] { return h->sql("SELECT count(*) FROM open_alerts") == "0"; }));
}

TEST_CASE("kill -9 just before a flush loses at most the last second of "
          "counters, and the hour bar agrees with the transitions kept") {
  http_server server;
  temp_dir dir;
  HISTORY_SUBCASES(h, dir.path);
  std::vector<std::string> args{h->option(), "--urlpoll.history-flush=6s",
                                "--urlpoll.targets=[{name=\"shop\", url=\"" +
                                  server.url("/switch") +
                                  "\", interval=200ms, retry-interval=200ms}]"};
  // The hour the test began in (UTC), for the history API.
  auto began = std::time(nullptr);
  char hour[32];
  std::tm utc{};
  gmtime_r(&began, &utc);
  std::strftime(hour, sizeof(hour), "%Y-%m-%dT%H:00:00Z", &utc);
  auto shop = [](const nlohmann::json& x) {
    return x["targets"][0];
  };
  nlohmann::json earlier;
  nlohmann::json before;
  {
    running_urlpoll up{dir.path, args};
    auto flushes = [&] {
      auto res = up.get("/metrics");
      REQUIRE(res);
      return metric(res->body, "urlpoll_history_flushes_total");
    };
    REQUIRE(up.wait_until(
      [&](const nlohmann::json& x) { return shop(x)["state"] == "up"; }));
    // Up for a flush interval at least; then, right after a flush, down...
    auto first = flushes();
    REQUIRE(eventually([&] { return flushes() >= first + 2; }, 15s));
    auto flushed = std::chrono::steady_clock::now();
    auto count = flushes();
    server.switch_code = 503;
    // ... and a crash just before the next flush: the worst moment.
    std::this_thread::sleep_until(flushed + 6s - 1600ms);
    earlier = up.status();
    std::this_thread::sleep_until(flushed + 6s - 400ms);
    before = up.status();
    REQUIRE_MESSAGE(flushes() == count, "killed too late: a flush came");
    up.kill();
  }
  REQUIRE(shop(before)["state"] == "down");
  // What a restart resumes, against what was shown a second (and a bit)
  // before the kill, and just before it.
  auto saved = [&](const std::string& column) {
    return std::stoll(h->sql("SELECT " + column + " FROM open_state"));
  };
  for (std::string column : {"polls", "consecutive_failures"}) {
    CAPTURE(column);
    MESSAGE(column << ": " << shop(before)[column] << " before the kill, "
                   << saved(column) << " kept");
    CHECK(saved(column) >= shop(earlier)[column].get<int64_t>());
  }
  running_urlpoll again{dir.path, args};
  auto after = shop(again.status());
  CHECK(after["polls"] >= shop(earlier)["polls"]);
  CHECK(after["consecutive_failures"] >= shop(earlier)["consecutive_failures"]);
  // The hour bar against the uptime the transitions and runs tell, over the
  // same time (in whole seconds: within 0.1 here).
  auto history = nlohmann::json::parse(
    again.get(std::string{"/api/v1/targets/shop/history?step=1h&from="} + hour)
      ->body);
  auto& points = history["points"];
  REQUIRE(points.size() >= 1);
  if (points.size() > 1) {
    MESSAGE("the test crossed the hour: its bar is not compared");
    return;
  }
  auto bar = points[0]["uptime"].get<double>();
  auto told = history["uptime"].get<double>();
  MESSAGE("the hour bar reads " << bar << ", the transitions " << told);
  CHECK(told < 0.8);
  CHECK(std::abs(bar - told) <= 0.1);
}

TEST_CASE("an alert removed from the configuration leaves no open alert "
          "for a restart to resume") {
  http_server server;
  temp_dir dir;
  auto target = "targets = [{name=\"shop\", url=\"" + server.url("/switch") +
                "\", interval=200ms}]\n";
  auto with = "[urlpoll]\n" + target + "alerts = [{name=\"ops\", url=\"" +
              server.url("/hook") + "\", repeat-interval=0s}]\n";
  auto conf = dir.write("urlpoll.conf", with);
  HISTORY_SUBCASES(h, dir.path);
  {
    running_urlpoll up{dir.path, {"--config-file=" + conf, h->option()}};
    REQUIRE(up.wait_until([](const nlohmann::json& x) {
      return x["targets"][0]["state"] == "up";
    }));
    server.switch_code = 503;
    REQUIRE(eventually(
      [&] { return h->sql("SELECT count(*) FROM open_alerts") == "1"; }));
    dir.write("urlpoll.conf", "[urlpoll]\n" + target);
    REQUIRE(up.post("/-/reload")->status == 200);
    CHECK(eventually(
      [&] { return h->sql("SELECT count(*) FROM open_alerts") == "0"; }));
    REQUIRE(up.stop(10s).exit_code == 0);
  }
  // Back with the alert, and the target up again: nothing was open, so
  // nothing is resolved.
  server.switch_code = 200;
  dir.write("urlpoll.conf", with);
  running_urlpoll up{dir.path, {"--config-file=" + conf, h->option()}};
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["state"] == "up" &&
           x["targets"][0]["consecutive_successes"] >= 5;
  }));
  CHECK(count_of(server.hooks(), "down") == 1);
  CHECK(count_of(server.hooks(), "resolved") == 0);
}

TEST_CASE("a target removed from the configuration and added again keeps "
          "its history") {
  http_server server;
  temp_dir dir;
  auto both = "[urlpoll]\ntargets = [{name=\"api\", url=\"" +
              server.url("/ok") +
              "\", interval=200ms}, {name=\"blog\", url=\"" +
              server.url("/ok") + "?b\", interval=200ms}]\n";
  auto one = "[urlpoll]\ntargets = [{name=\"api\", url=\"" + server.url("/ok") +
             "\", interval=200ms}]\n";
  auto conf = dir.write("urlpoll.conf", both);
  HISTORY_SUBCASES(h, dir.path);
  running_urlpoll up{dir.path, {"--config-file=" + conf, h->option()}};
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"].size() == 2 && x["targets"][1]["polls"] >= 3;
  }));
  dir.write("urlpoll.conf", one);
  REQUIRE(up.post("/-/reload")->status == 200);
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"].size() == 1; }));
  // Gone from the status, not from the history.
  CHECK(up.get("/api/v1/targets/blog")->status == 404);
  auto gone = up.get("/api/v1/targets/blog/transitions");
  REQUIRE(gone->status == 200);
  auto list = nlohmann::json::parse(gone->body)["transitions"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["status"] == "removed from the configuration");
  dir.write("urlpoll.conf", both);
  REQUIRE(up.post("/-/reload")->status == 200);
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"].size() == 2 && x["targets"][1]["state"] == "up";
  }));
  // The history hears of transitions within a second.
  nlohmann::json back;
  REQUIRE(eventually([&] {
    back = nlohmann::json::parse(
      up.get("/api/v1/targets/blog/transitions")->body)["transitions"];
    return back.size() == 3;
  }));
  CHECK(back[0]["from"] == "unknown");
  CHECK(back[0]["to"] == "up");
  // The polls before the removal count too (the history hears of polls
  // once a second).
  REQUIRE(eventually([&] {
    auto hours = nlohmann::json::parse(
      up.get("/api/v1/targets/blog/history?step=1h")->body);
    return hours["points"].size() == 1 && hours["points"][0]["polls"] >= 4;
  }));
}

TEST_CASE("a history database that is damaged or held by another urlpoll is "
          "refused at start-up with exit 2, and left as it was") {
  http_server server;
  temp_dir dir;
  std::vector<std::string> args{"--urlpoll.urls=[\"" + server.url("/ok") +
                                "\"]"};
  SUBCASE("damaged") {
    std::string garbage(4096, '\x17');
    auto path = dir.write("urlpoll-history.db", garbage);
    auto r = run_urlpoll(args, dir.path);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, path));
    CHECK(contains(r.err, "not a SQLite database"));
    CHECK(contains(r.err, "move it away"));
    std::ifstream in{path, std::ios::binary};
    CHECK(std::string{std::istreambuf_iterator<char>{in}, {}} == garbage);
  }
  SUBCASE("held by another urlpoll") {
    running_urlpoll first{dir.path, args};
    auto r = run_urlpoll(args, dir.path);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "another process holds it"));
    // The first goes on.
    CHECK(first.status()["targets"].size() == 1);
  }
  SUBCASE("read-only") {
    // Made by a run, then made read-only. Root writes to any file whatever
    // its mode, so as root the check runs urlpoll as nobody.
    { running_urlpoll first{dir.path, args}; }
    auto path = dir.path + "/urlpoll-history.db";
    REQUIRE(std::filesystem::exists(path));
    std::filesystem::permissions(dir.path, std::filesystem::perms{0755});
    std::filesystem::permissions(path, std::filesystem::perms{0444});
    std::vector<std::string> as_nobody{"--reuid=65534", "--regid=65534",
                                       "--clear-groups", URLPOLL_BINARY};
    as_nobody.insert(as_nobody.end(), args.begin(), args.end());
    as_nobody.push_back("--urlpoll.http-listen=");
    child run{geteuid() == 0 ? "/usr/bin/setpriv" : URLPOLL_BINARY,
              geteuid() == 0 ? as_nobody : args, dir.path};
    auto r = run.wait(20s);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, path));
    CHECK(contains(r.err, "Permission denied"));
    CHECK(contains(r.err, "give urlpoll.history a file urlpoll may write"));
  }
  SUBCASE("a folder") {
    std::filesystem::create_directory(dir.path + "/hist");
    auto r = run_urlpoll({args[0], "--urlpoll.history=hist"}, dir.path);
    CHECK(r.exit_code != 0);
    CHECK(contains(r.err, "urlpoll.history"));
    CHECK(contains(r.err, "is a directory"));
  }
}

TEST_CASE("when the history cannot be written, urlpoll monitors and alerts "
          "on, says so, and writes what it kept once it can") {
  http_server server;
  temp_dir dir;
  running_urlpoll up{dir.path,
                     {"--urlpoll.targets=[{name=\"shop\", url=\"" +
                        server.url("/switch") + "\", interval=200ms}]",
                      "--urlpoll.alerts=[{name=\"ops\", url=\"" +
                        server.url("/hook") + "\", repeat-interval=0s}]",
                      "--urlpoll.history-flush=1s"}};
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["state"] == "up"; }));
  // A disk that is full: no file may grow beyond 4 KB (as `ulimit -f`).
  rlimit full{4096, RLIM_INFINITY};
  REQUIRE(prlimit(up.pid(), RLIMIT_FSIZE, &full, nullptr) == 0);
  server.switch_code = 503;
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["state"] == "down";
  }));
  REQUIRE(eventually([&] { return count_of(server.hooks(), "down") == 1; }));
  REQUIRE(up.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "history: cannot write to");
    },
    10s));
  // The transition waits in memory, where the API finds it too.
  REQUIRE(eventually([&] {
    auto metrics = up.get("/metrics")->body;
    return metric(metrics, "urlpoll_history_writing") == 0 &&
           metric(metrics, "urlpoll_history_write_errors_total") >= 1 &&
           metric(metrics, "urlpoll_history_pending_transitions") >= 1;
  }));
  auto list = nlohmann::json::parse(
    up.get("/api/v1/targets/shop/transitions")->body)["transitions"];
  REQUIRE(list.size() >= 1);
  CHECK(list[0]["to"] == "down");
  // Space again.
  rlimit room{RLIM_INFINITY, RLIM_INFINITY};
  REQUIRE(prlimit(up.pid(), RLIMIT_FSIZE, &room, nullptr) == 0);
  REQUIRE(up.wait_for_output(
    [](const std::string&, const std::string& err) {
      return contains(err, "again; what waited in memory is written");
    },
    10s));
  REQUIRE(eventually([&] {
    return metric(up.get("/metrics")->body, "urlpoll_history_writing") == 1;
  }));
  REQUIRE(up.stop(10s).exit_code == 0);
  CHECK(query(dir.path, dir.path + "/urlpoll-history.db",
              "SELECT count(*) FROM transitions WHERE to_state = 3") == "1");
}

TEST_CASE("the history API: points by hour, uptime badges, the state badge, "
          "and status pages with counts, filters and problems first") {
  http_server server;
  temp_dir dir;
  HISTORY_SUBCASES(h, dir.path);
  running_urlpoll up{
    dir.path,
    {h->option(), "--urlpoll.targets=[{name=\"api\", url=\"" +
                    server.url("/ok") +
                    "\", interval=200ms}, {name=\"broken\", url=\"" +
                    server.url("/unavailable") +
                    "\", interval=200ms}, {name=\"blog\", url=\"" +
                    server.url("/ok") + "?blog\", interval=200ms}]"}};
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= 3 && x["targets"][1]["polls"] >= 1 &&
           x["targets"][2]["polls"] >= 1;
  }));
  // The history hears of polls once a second.
  nlohmann::json hours;
  REQUIRE(eventually([&] {
    hours = nlohmann::json::parse(
      up.get("/api/v1/targets/api/history?step=1h")->body);
    return hours["points"].size() == 1 && hours["points"][0]["polls"] >= 3;
  }));
  auto& p = hours["points"].back();
  CHECK(p["polls"] >= 3);
  CHECK(p["up"] == p["polls"]);
  CHECK(p["latency_ms"]["p95"] >= p["latency_ms"]["min"]);
  CHECK(hours["uptime"] == 1.0);
  auto days =
    nlohmann::json::parse(up.get("/api/v1/targets/api/history?step=1d")->body);
  CHECK(days["points"].size() == 1);
  CHECK(up.get("/api/v1/targets/api/history?step=2h")->status == 400);
  CHECK(up.get("/api/v1/targets/api/history?from=yesterday")->status == 400);
  CHECK(up.get("/api/v1/targets/nothing/history")->status == 404);
  auto badge = up.get("/api/v1/targets/api/uptime/24h/badge.svg");
  REQUIRE(badge->status == 200);
  CHECK(badge->get_header_value("Content-Type") ==
        "image/svg+xml; charset=utf-8");
  CHECK(contains(badge->body, "uptime 24h"));
  CHECK(contains(badge->body, ">100%<"));
  CHECK(contains(up.get("/api/v1/targets/broken/uptime/7d/badge.svg")->body,
                 ">0%<"));
  auto state = up.get("/api/v1/targets/broken/state/badge.svg");
  REQUIRE(state->status == 200);
  CHECK(contains(state->body, ">down<"));
  CHECK(contains(state->body, "#e05d44"));
  // Pages of the status.
  auto page = nlohmann::json::parse(
    up.get("/api/v1/status?order=problems&limit=1&days=3")->body);
  CHECK(page["counts"]["targets"] == 3);
  CHECK(page["counts"]["down"] == 1);
  CHECK(page["counts"]["up"] == 2);
  CHECK(page["page"]["matched"] == 3);
  REQUIRE(page["targets"].size() == 1);
  CHECK(page["targets"][0]["name"] == "broken");
  CHECK(page["targets"][0]["days"].size() == 3);
  CHECK(page["targets"][0]["days"][2] == 0.0);
  auto found =
    nlohmann::json::parse(up.get("/api/v1/status?q=BLO&state=up")->body);
  CHECK(found["page"]["matched"] == 1);
  CHECK(found["targets"][0]["name"] == "blog");
  auto second =
    nlohmann::json::parse(up.get("/api/v1/status?limit=2&offset=2")->body);
  REQUIRE(second["targets"].size() == 1);
  CHECK(second["targets"][0]["name"] == "blog");
  CHECK(up.get("/api/v1/status?state=sideways")->status == 400);
  CHECK(up.get("/api/v1/status?limit=-1")->status == 400);
}
