#include <doctest/doctest.h>

#include "actors/health.hpp"
#include "app/report.hpp"

using namespace urlpoll;
using namespace std::chrono_literals;

namespace {

poll_result answer(uint16_t code, const char* status) {
  poll_result r;
  r.code = code;
  r.status = status;
  r.latency = 5ms;
  r.time = caf::timestamp{} + 1000s;
  return r;
}

poll_result transport_error(const char* status) {
  return answer(0, status);
}

} // namespace

TEST_CASE("a target is up for 200-399 and down for any other status") {
  CHECK(classify(answer(200, "200 OK")) == target_state::up);
  CHECK(classify(answer(204, "204 No Content")) == target_state::up);
  CHECK(classify(answer(301, "301 Moved Permanently")) == target_state::up);
  CHECK(classify(answer(399, "399")) == target_state::up);
  CHECK(classify(answer(199, "199")) == target_state::down);
  CHECK(classify(answer(400, "400 Bad Request")) == target_state::down);
  CHECK(classify(answer(404, "404 Not Found")) == target_state::down);
  CHECK(classify(answer(503, "503 Service Unavailable")) == target_state::down);
}

TEST_CASE("a transport error makes a target down") {
  CHECK(classify(transport_error("connection refused")) == target_state::down);
}

TEST_CASE("recording results counts polls and failures and tracks changes") {
  target_status t;
  std::vector<transition> history;
  CHECK(t.state == target_state::unknown);
  auto first = answer(200, "200 OK");
  record(t, history, first);
  CHECK(t.state == target_state::up);
  CHECK(t.polls == 1);
  CHECK(t.failures == 0);
  CHECK(t.last_change == first.time);
  CHECK(t.last_poll == first.time);
  CHECK(t.latency == 5ms);
  auto second = answer(200, "200 OK");
  second.time += 60s;
  record(t, history, second);
  CHECK_MESSAGE(t.last_change == first.time, "no change, no new last_change");
  CHECK(t.last_poll == second.time);
  auto third = transport_error("connection refused");
  third.time += 120s;
  record(t, history, third);
  auto fourth = answer(503, "503 Service Unavailable");
  fourth.time += 180s;
  record(t, history, fourth);
  CHECK(t.state == target_state::down);
  CHECK(t.status == "503 Service Unavailable");
  CHECK(t.code == 503);
  CHECK(t.polls == 4);
  CHECK(t.failures == 2);
  CHECK(t.consecutive_failures == 2);
  CHECK(t.last_change == third.time);
  record(t, history, answer(200, "200 OK"));
  CHECK(t.consecutive_failures == 0);
  CHECK(t.failures == 2);
  CHECK(t.state == target_state::up);
}

namespace {

poll_request rules() {
  poll_request r;
  r.method = http_method::get;
  return r;
}

caf::timestamp at(caf::timespan x) {
  return caf::timestamp{} + 1000000s + x;
}

// Judges a 200 answer that took `latency`, with a certificate expiring at
// `expiry` (epoch: unknown), at time at(0s).
poll_result judged(const poll_request& request, uint16_t code = 200,
                   caf::timespan latency = 5ms, bool body_matched = true,
                   caf::timestamp expiry = {}) {
  auto r = answer(code, code == 200 ? "200 OK" : "404 Not Found");
  r.latency = latency;
  r.cert_expiry = expiry;
  judge(r, request, body_matched, at(0s));
  return r;
}

} // namespace

TEST_CASE("judging: expected codes, as codes and ranges") {
  auto request = rules();
  CHECK(expected(204, {}));
  CHECK_FALSE(expected(404, {}));
  request.expect = {{200, 200}, {404, 404}, {500, 503}};
  CHECK(expected(404, request.expect));
  CHECK(expected(502, request.expect));
  CHECK_FALSE(expected(204, request.expect));
  CHECK(describe_expect(request.expect) == "200, 404, 500-503");
  CHECK(judged(request, 404).verdict == target_state::up);
  request.expect = {{200, 200}};
  auto r = judged(request, 404);
  CHECK(r.verdict == target_state::down);
  CHECK(r.status == "404 Not Found (expected 200)");
}

TEST_CASE("judging: body-match, degraded latency and certificate expiry") {
  auto request = rules();
  request.body_match = "healthy";
  auto missing = judged(request, 200, 5ms, false);
  CHECK(missing.verdict == target_state::down);
  CHECK(missing.status == "200 OK, but the body does not contain \"healthy\"");
  request.body_match = "/^ok$/";
  CHECK(judged(request, 200, 5ms, false).status ==
        "200 OK, but the body does not match /^ok$/");
  CHECK(judged(request, 200, 5ms, true).verdict == target_state::up);
  request.body_match.clear();
  request.degraded_latency = 500ms;
  CHECK(judged(request, 200, 499ms).verdict == target_state::up);
  auto slow = judged(request, 200, 812ms);
  CHECK(slow.verdict == target_state::degraded);
  CHECK(slow.status == "200 OK, but slow: 812 ms (degraded above 500 ms)");
  request.cert_expiry_warn = 14 * 24h;
  auto soon = judged(request, 200, 5ms, true, at(3 * 24h + 1h));
  CHECK(soon.verdict == target_state::degraded);
  CHECK(soon.status.find("200 OK, but the certificate expires in 3 days (") ==
        0);
  CHECK(judged(request, 200, 5ms, true, at(30 * 24h)).verdict ==
        target_state::up);
  CHECK_MESSAGE(judged(request, 200).verdict == target_state::up,
                "an unknown expiry (plain http) degrades nothing");
}

TEST_CASE("a slow target's reason writes its latency as the status table "
          "does") {
  auto request = rules();
  request.degraded_latency = 1s;
  auto slow = judged(request, 200, 1508820us);
  CHECK(slow.status == "200 OK, but slow: 1.51 s (degraded above 1 s)");
  snapshot x;
  x.targets.emplace_back();
  std::vector<transition> history;
  record(x.targets[0], history, slow);
  auto text = to_text(x);
  auto first = text.find("1.51 s");
  REQUIRE_MESSAGE(first != std::string::npos, text);
  CHECK_MESSAGE(text.find("1.51 s", first + 1) != std::string::npos,
                "the LATENCY column and the reason differ: " << text);
}

namespace {

// A target's state machine, driven by verdicts one poll interval apart.
struct machine {
  target_status status;
  std::vector<transition> history;
  state_rules rules;
  caf::timespan now{0};
  std::vector<transition> changes;

  target_state feed(target_state verdict, int times = 1) {
    for (int i = 0; i < times; ++i) {
      auto r = answer(verdict == target_state::down ? 503 : 200, "x");
      r.verdict = verdict;
      r.time = at(now);
      now += 60s;
      if (auto t = record(status, history, r, rules))
        changes.push_back(*t);
    }
    return status.state;
  }
};

} // namespace

TEST_CASE("state machine: down only after failure-threshold failures in a "
          "row") {
  machine m;
  m.rules.failure_threshold = 3;
  CHECK(m.feed(target_state::down, 2) == target_state::unknown);
  CHECK_MESSAGE(m.changes.empty(), "not confirmed yet: no transition");
  CHECK(m.feed(target_state::down) == target_state::down);
  REQUIRE(m.changes.size() == 1);
  CHECK(m.changes[0].from == target_state::unknown);
  CHECK(m.changes[0].to == target_state::down);
  CHECK(m.feed(target_state::up) == target_state::up);
  // Two failures, a success, two failures: never three in a row.
  m.feed(target_state::down, 2);
  m.feed(target_state::up);
  CHECK(m.feed(target_state::down, 2) == target_state::up);
  CHECK(m.status.failures == 7);
  CHECK(m.feed(target_state::down) == target_state::down);
}

TEST_CASE("state machine: up again only after success-threshold successes") {
  machine m;
  m.rules.success_threshold = 2;
  CHECK(m.feed(target_state::up) == target_state::up);
  CHECK(m.feed(target_state::down) == target_state::down);
  CHECK(m.feed(target_state::up) == target_state::down);
  CHECK(m.status.consecutive_successes == 1);
  CHECK(m.feed(target_state::down) == target_state::down);
  CHECK(m.feed(target_state::up) == target_state::down);
  CHECK(m.feed(target_state::degraded) == target_state::degraded);
  CHECK(m.changes.size() == 3);
  CHECK(m.changes.back().from == target_state::down);
  CHECK(m.changes.back().to == target_state::degraded);
}

TEST_CASE("state machine: up and degraded change at once, with since") {
  machine m;
  m.feed(target_state::up);
  auto since = m.status.last_change;
  m.feed(target_state::up);
  CHECK(m.status.last_change == since);
  CHECK(m.feed(target_state::degraded) == target_state::degraded);
  CHECK(m.status.last_change == at(120s));
  CHECK(m.feed(target_state::up) == target_state::up);
  CHECK(m.changes.size() == 3);
}

TEST_CASE("state machine: flapping after flap-threshold changes within "
          "flap-window, until it settles") {
  machine m;
  m.rules.flap_threshold = 4;
  m.rules.flap_window = 10min;
  // A change every minute: up, down, up, down, up. The first, out of
  // unknown, is no change of the target: it does not count.
  m.feed(target_state::up);
  m.feed(target_state::down);
  m.feed(target_state::up);
  m.feed(target_state::down);
  CHECK_FALSE(m.status.flapping);
  m.feed(target_state::up);
  CHECK(m.status.flapping);
  CHECK(m.changes.back().flapping);
  CHECK(m.history.back().flapping);
  // Steady for longer than the window: the flag goes, in a transition of
  // its own (from == to).
  // Changes at 1, 2, 3 and 4 minutes: at 11 minutes all four are within
  // the window, at 12 the first is not.
  auto before = m.changes.size();
  m.feed(target_state::up, 7);
  CHECK(m.status.flapping);
  m.feed(target_state::up);
  CHECK_FALSE(m.status.flapping);
  REQUIRE(m.changes.size() == before + 1);
  CHECK(m.changes.back().from == target_state::up);
  CHECK(m.changes.back().to == target_state::up);
  CHECK_FALSE(m.changes.back().flapping);
  // flap-threshold 0: never flapping.
  machine calm;
  calm.rules.flap_threshold = 0;
  for (int i = 0; i < 10; ++i)
    calm.feed(i % 2 == 0 ? target_state::up : target_state::down);
  CHECK_FALSE(calm.status.flapping);
}

TEST_CASE("state machine: one outage after start-up is no flapping, with "
          "flap-threshold 3") {
  machine m;
  m.rules.flap_threshold = 3;
  // unknown -> up -> down -> up: two changes of the target.
  m.feed(target_state::up);
  m.feed(target_state::down);
  m.feed(target_state::up);
  CHECK_FALSE(m.status.flapping);
  for (auto& t : m.changes)
    CHECK_FALSE(t.flapping);
  // A third real change is.
  m.feed(target_state::down);
  CHECK(m.status.flapping);
}

TEST_CASE("state machine: a transition says what caused it, and history keeps "
          "the last 100") {
  machine m;
  m.rules.flap_threshold = 0;
  m.status.name = "api";
  for (int i = 0; i < 150; ++i)
    m.feed(i % 2 == 0 ? target_state::up : target_state::down);
  CHECK(m.history.size() == transition_history);
  CHECK(m.history.front().time == at(50 * 60s));
  auto& last = m.changes.back();
  CHECK(last.target == "api");
  CHECK(last.code == 503);
  CHECK(last.status == "x");
  CHECK(last.time == at(149 * 60s));
}
