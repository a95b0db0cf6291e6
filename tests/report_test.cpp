#include <doctest/doctest.h>

#include "app/report.hpp"

using namespace urlpoll;
using namespace std::chrono_literals;

namespace {

// 2026-11-21T10:00:00Z
const caf::timestamp t0 = caf::timestamp{} + 1'795'255'200s;

snapshot sample() {
  snapshot x;
  x.time = t0 + 61s + 250ms;
  target_status up;
  up.url = "http://user:***@a.example/";
  up.state = target_state::up;
  up.status = "200 OK";
  up.code = 200;
  up.latency = 12345us;
  up.timings.dns = 100us;
  up.timings.connect = 1500us;
  up.timings.first_byte = 12000us;
  up.polls = 3;
  up.last_poll = t0 + 60s;
  up.last_change = t0;
  target_status down;
  down.url = "http://b.example/";
  down.state = target_state::down;
  down.status = "connection refused";
  down.latency = 1ms;
  down.polls = 2;
  down.failures = 2;
  down.consecutive_failures = 2;
  down.last_poll = t0 + 60s;
  down.last_change = t0;
  target_status unknown;
  unknown.url = "http://c.example/";
  x.targets = {up, down, unknown};
  x.counts = {3, 1, 0, 1, 1, 0};
  x.page.matched = 3;
  x.lateness.p50 = 2ms;
  x.lateness.p99 = 9500us;
  x.lateness.max = 31ms;
  x.lateness.samples = 5;
  return x;
}

} // namespace

TEST_CASE("timestamps are RFC 3339 in UTC") {
  CHECK(rfc3339(t0) == "2026-11-21T10:00:00.000Z");
  CHECK(rfc3339(t0 + 1500ms) == "2026-11-21T10:00:01.500Z");
}

TEST_CASE("the JSON snapshot has the documented shape") {
  auto doc = to_json(sample());
  CHECK(doc["time"] == "2026-11-21T10:01:01.250Z");
  REQUIRE(doc["targets"].size() == 3);
  auto& up = doc["targets"][0];
  CHECK(up["url"] == "http://user:***@a.example/");
  CHECK(up["state"] == "up");
  CHECK(up["status"] == "200 OK");
  CHECK(up["code"] == 200);
  CHECK(up["latency_ms"].get<double>() == doctest::Approx(12.345));
  CHECK(up["polls"] == 3);
  CHECK(up["failures"] == 0);
  CHECK(up["consecutive_failures"] == 0);
  CHECK(up["last_poll"] == "2026-11-21T10:01:00.000Z");
  CHECK(up["since"] == "2026-11-21T10:00:00.000Z");
  auto& timings = up["timings"];
  CHECK(timings["dns_ms"].get<double>() == doctest::Approx(0.1));
  CHECK(timings["connect_ms"].get<double>() == doctest::Approx(1.5));
  CHECK(timings["tls_ms"].is_null());
  CHECK(timings["first_byte_ms"].get<double>() == doctest::Approx(12.0));
  CHECK(timings["total_ms"].get<double>() == doctest::Approx(12.345));
  CHECK(doc["lateness"]["p50_ms"].get<double>() == doctest::Approx(2.0));
  CHECK(doc["lateness"]["p99_ms"].get<double>() == doctest::Approx(9.5));
  CHECK(doc["lateness"]["max_ms"].get<double>() == doctest::Approx(31.0));
  CHECK(doc["lateness"]["samples"] == 5);
  auto& down = doc["targets"][1];
  CHECK(down["state"] == "down");
  CHECK(down["status"] == "connection refused");
  CHECK(down["code"].is_null());
  CHECK(down["consecutive_failures"] == 2);
  auto& unknown = doc["targets"][2];
  CHECK(unknown["state"] == "unknown");
  for (auto key :
       {"status", "code", "latency_ms", "timings", "last_poll", "since"})
    CHECK_MESSAGE(unknown[key].is_null(), key);
  std::vector<std::string> keys;
  for (auto& [key, value] : up.items())
    keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"name",
                                         "url",
                                         "state",
                                         "since",
                                         "flapping",
                                         "status",
                                         "code",
                                         "latency_ms",
                                         "timings",
                                         "polls",
                                         "failures",
                                         "consecutive_failures",
                                         "consecutive_successes",
                                         "last_poll",
                                         "method",
                                         "head_refused",
                                         "cert_expires",
                                         "cert_days_left",
                                         "node",
                                         "uptime"});
  // No history: no figures, and null says so.
  for (auto window : {"1h", "24h", "7d", "30d"})
    CHECK(up["uptime"][window].is_null());
  CHECK(doc["history"].is_null());
  CHECK(up["node"].is_null());
  CHECK(up["name"] == "http://user:***@a.example/");
  CHECK(up["method"] == "HEAD");
  CHECK(up["flapping"] == false);
  CHECK(up["cert_expires"].is_null());
  CHECK(up["cert_days_left"].is_null());
  CHECK(doc["nodes"] == nlohmann::json::array());
}

TEST_CASE("a distributed snapshot shows the nodes and each node's view") {
  auto x = sample();
  node_status a;
  a.name = "a";
  a.address = "local";
  a.connected = true;
  a.since = x.time;
  a.polls = 7;
  node_status b;
  b.name = "b";
  b.address = "127.0.0.1:9190";
  b.lost = 2;
  b.problem = "connection refused";
  x.nodes = {a, b};
  auto& t = x.targets[0];
  t.node = "a";
  t.quorum = 2;
  t.views = {node_view{"a", target_state::up, 200, "200 OK", 3ms},
             node_view{"b", target_state::unknown, 0, "lost (gone)", {}}};
  auto doc = to_json(x);
  REQUIRE(doc["nodes"].size() == 2);
  CHECK(doc["nodes"][0]["name"] == "a");
  CHECK(doc["nodes"][0]["connected"] == true);
  CHECK(doc["nodes"][0]["polls"] == 7);
  CHECK(doc["nodes"][0]["problem"].is_null());
  CHECK(doc["nodes"][1]["connected"] == false);
  CHECK(doc["nodes"][1]["since"].is_null());
  CHECK(doc["nodes"][1]["lost"] == 2);
  CHECK(doc["nodes"][1]["problem"] == "connection refused");
  auto& target = doc["targets"][0];
  CHECK(target["node"] == "a");
  CHECK(target["quorum"] == 2);
  REQUIRE(target["views"].size() == 2);
  CHECK(target["views"][0]["latency_ms"].get<double>() == doctest::Approx(3.0));
  CHECK(target["views"][1]["state"] == "unknown");
  CHECK(target["views"][1]["code"].is_null());
  CHECK_FALSE(doc["targets"][1].contains("views"));
  auto text = to_text(x);
  CHECK(text.find("NODE") != std::string::npos);
  CHECK(text.find("127.0.0.1:9190") != std::string::npos);
  CHECK(text.find("disconnected") != std::string::npos);
  CHECK(text.find("connection refused") != std::string::npos);
}

TEST_CASE("a named target with a certificate shows name, state, since and "
          "the days left") {
  auto x = sample();
  auto& t = x.targets[0];
  t.name = "api";
  t.state = target_state::degraded;
  t.flapping = true;
  t.method = http_method::get;
  t.head_refused = true;
  t.cert_expiry = x.time + std::chrono::hours{24 * 3 + 5};
  auto doc = to_json(x)["targets"][0];
  CHECK(doc["name"] == "api");
  CHECK(doc["state"] == "degraded");
  CHECK(doc["flapping"] == true);
  CHECK(doc["method"] == "GET");
  CHECK(doc["head_refused"] == true);
  CHECK(doc["cert_days_left"] == 3);
  CHECK(doc["cert_expires"] == rfc3339(t.cert_expiry));
  x.counts = {3, 0, 1, 1, 1, 1};
  auto text = to_text(x);
  CHECK(text.find("1 degraded") != std::string::npos);
  CHECK(text.find("1 flapping") != std::string::npos);
  CHECK(text.find("api") != std::string::npos);
  CHECK(text.find("flapping; ") != std::string::npos);
}

TEST_CASE("a transition is one JSON line") {
  transition t;
  t.time = caf::timestamp{} + std::chrono::seconds{1'795'000'000};
  t.target = "api";
  t.from = target_state::up;
  t.to = target_state::down;
  t.status = "503 Service Unavailable";
  t.code = 503;
  t.latency = std::chrono::milliseconds{4};
  auto doc = to_json(t);
  std::vector<std::string> keys;
  for (auto& [key, value] : doc.items())
    keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"time", "target", "from", "to",
                                         "flapping", "status", "code",
                                         "latency_ms", "node"});
  CHECK(doc["from"] == "up");
  CHECK(doc["to"] == "down");
  CHECK(doc["code"] == 503);
  CHECK(doc["node"].is_null());
  CHECK(doc.dump().find('\n') == std::string::npos);
}

TEST_CASE("the JSON status format is one line per snapshot") {
  auto line = render(sample(), status_format::json);
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(nlohmann::json::parse(line)["targets"].size() == 3);
}

TEST_CASE("the text status is a table with a summary line") {
  auto text = render(sample(), status_format::text);
  CHECK(text.find("3 targets: 1 up, 0 degraded, 1 down, 1 unknown") !=
        std::string::npos);
  CHECK(text.find("STATE") != std::string::npos);
  CHECK(text.find("http://user:***@a.example/") != std::string::npos);
  CHECK(text.find("12.3 ms") != std::string::npos);
  CHECK(text.find("connection refused") != std::string::npos);
  CHECK(text.find("not polled yet") != std::string::npos);
}

TEST_CASE("a failed poll is one stderr line naming the target") {
  auto x = sample().targets[1];
  CHECK(failure_line(x) ==
        "urlpoll: http://b.example/: connection refused (2 failures in a "
        "row)\n");
}

TEST_CASE("the JSON writer escapes what JSON must escape") {
  auto x = sample();
  x.targets[0].name = "a \"quoted\" \\ name\nwith\ttabs";
  x.targets[0].status = std::string{"ctrl \x01 end"};
  auto line = render(x, status_format::json);
  CHECK(line.find('\n') == line.size() - 1);
  auto doc = nlohmann::json::parse(line);
  CHECK(doc["targets"][0]["name"] == "a \"quoted\" \\ name\nwith\ttabs");
  CHECK(doc["targets"][0]["status"] == std::string{"ctrl \x01 end"});
  CHECK(doc["targets"][0]["latency_ms"].get<double>() ==
        doctest::Approx(12.345));
}

TEST_CASE("after a refused reload the table and the JSON say the previous "
          "configuration keeps running") {
  auto x = sample();
  CHECK(to_text(x).find("was refused") == std::string::npos);
  x.config.reloads = 1;
  x.config.last_ok = false;
  x.config.last_time = x.time;
  x.config.last_errors = {"urlpoll.conf:3: 'urlpoll.pollers' must be a whole "
                          "number, not \"abc\""};
  CHECK(to_text(x).find("the configuration reload of " + rfc3339(x.time) +
                        " was refused: the previous configuration keeps "
                        "running") != std::string::npos);
  auto doc = to_json(x);
  CHECK(doc["config"]["last_reload_successful"] == false);
  CHECK(doc["config"]["errors"][0] == x.config.last_errors[0]);
}

TEST_CASE("the text log lists every target while they fit, else the targets "
          "not up, problems first, and says how many more") {
  state_counts few{3, 1, 0, 1, 1, 0};
  auto all = log_query(few, 50);
  CHECK(all.state.empty());
  CHECK(all.problems_first);
  CHECK(all.limit == 50);
  state_counts many{1'000'000, 999'000, 10, 900, 90, 3};
  auto problems = log_query(many, 50);
  CHECK(problems.state == "not-up");
  CHECK(problems.problems_first);
  CHECK(problems.limit == 50);
  auto x = sample();
  x.counts = many;
  x.page.matched = 1000;
  x.targets.resize(2);
  auto text = to_text(x);
  CHECK(text.find("1000000 targets: 999000 up, 10 degraded, 900 down, 90 "
                  "unknown, 3 flapping") != std::string::npos);
  CHECK(text.find("and 998 more not up") != std::string::npos);
  x.targets.clear();
  x.page.matched = 0;
  x.counts = {5, 5, 0, 0, 0, 0};
  auto quiet = to_text(x);
  CHECK_MESSAGE(quiet.find("STATE") == std::string::npos,
                "no table header without a target to list");
  CHECK(quiet.find("more") == std::string::npos);
}

TEST_CASE("RFC 3339 times and milliseconds are what gmtime_r and printf "
          "write") {
  // Every 7,777,777,777 ms from 1960 to 2100: leap years, month ends, the
  // epoch's both sides.
  for (int64_t ms = -315'619'200'000; ms < 4'102'444'800'000;
       ms += 7'777'777'777) {
    auto x = caf::timestamp{} + std::chrono::milliseconds{ms};
    auto secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char expected[64];
    std::snprintf(expected, sizeof(expected),
                  "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<int>(ms - secs * 1000));
    REQUIRE(rfc3339(x) == expected);
  }
  CHECK(rfc3339(caf::timestamp{} + std::chrono::hours{24 * (365 * 30 + 7)} +
                std::chrono::hours{24 * 59}) == "2000-02-29T00:00:00.000Z");
  auto latency_of = [](caf::timespan x) {
    target_status t;
    t.polls = 1;
    t.code = 200;
    t.latency = x;
    return to_json(t, t0)["latency_ms"].dump();
  };
  CHECK(latency_of(12345us) == "12.345");
  CHECK(latency_of(2500us) == "2.5");
  CHECK(latency_of(7ms) == "7");
  CHECK(latency_of(999ns) == "0");
  CHECK(latency_of(1001us + 999ns) == "1.001");
  CHECK(latency_of(0ns) == "0");
}
