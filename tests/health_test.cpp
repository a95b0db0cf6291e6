#include <doctest/doctest.h>

#include "actors/health.hpp"

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
  CHECK(t.state == target_state::unknown);
  auto first = answer(200, "200 OK");
  record(t, first);
  CHECK(t.state == target_state::up);
  CHECK(t.polls == 1);
  CHECK(t.failures == 0);
  CHECK(t.last_change == first.time);
  CHECK(t.last_poll == first.time);
  CHECK(t.latency == 5ms);
  auto second = answer(200, "200 OK");
  second.time += 60s;
  record(t, second);
  CHECK_MESSAGE(t.last_change == first.time, "no change, no new last_change");
  CHECK(t.last_poll == second.time);
  auto third = transport_error("connection refused");
  third.time += 120s;
  record(t, third);
  auto fourth = answer(503, "503 Service Unavailable");
  fourth.time += 180s;
  record(t, fourth);
  CHECK(t.state == target_state::down);
  CHECK(t.status == "503 Service Unavailable");
  CHECK(t.code == 503);
  CHECK(t.polls == 4);
  CHECK(t.failures == 2);
  CHECK(t.consecutive_failures == 2);
  CHECK(t.last_change == third.time);
  record(t, answer(200, "200 OK"));
  CHECK(t.consecutive_failures == 0);
  CHECK(t.failures == 2);
  CHECK(t.state == target_state::up);
}
