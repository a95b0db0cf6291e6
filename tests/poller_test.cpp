#include <doctest/doctest.h>

#include <caf/exit_reason.hpp>

#include "actors/poller.hpp"
#include "support/actor_fixtures.hpp"
#include "support/http_server.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

// The server outlives the actor system: pollers close their connections
// before the server waits for its keep-alive handlers to end.
struct with_server {
  http_server server;
};

struct poller_fixture : with_server, threaded_fixture {
  poller_actor pollers = spawn_pollers(sys, 2);

  ~poller_fixture() {
    self->send_exit(pollers, caf::exit_reason::user_shutdown);
  }

  poll_result poll(const std::string& url, caf::timespan timeout = 5s) {
    poll_result result;
    self->request(pollers, 20s, poll_atom_v, poll_request{url, timeout})
      .receive([&](poll_result& r) { result = std::move(r); },
               [&](caf::error& err) {
                 FAIL("no answer from the poller: " << sys.render(err));
               });
    return result;
  }
};

} // namespace

TEST_CASE_FIXTURE(poller_fixture,
                  "a poller sends HEAD and answers with the status line") {
  auto before = caf::make_timestamp();
  auto r = poll(server.url("/ok"));
  CHECK(r.code == 200);
  CHECK(r.status == "200 OK");
  CHECK(r.latency > 0s);
  CHECK(r.latency < 5s);
  CHECK(r.time >= before);
  CHECK(server.methods() == std::vector<std::string>{"HEAD"});
}

TEST_CASE_FIXTURE(poller_fixture, "an error status is reported as it came") {
  auto r = poll(server.url("/unavailable"));
  CHECK(r.code == 503);
  CHECK(r.status == "503 Service Unavailable");
}

TEST_CASE_FIXTURE(poller_fixture, "redirects are reported, not followed") {
  auto r = poll(server.url("/redirect"));
  CHECK(r.code == 302);
  CHECK(r.status == "302 Found");
  CHECK(server.requests == 1);
}

TEST_CASE_FIXTURE(poller_fixture, "a refused connection is said in words") {
  auto r = poll("http://127.0.0.1:" + std::to_string(closed_port()) + "/");
  CHECK(r.code == 0);
  CHECK(r.status == "connection refused");
}

TEST_CASE_FIXTURE(poller_fixture, "a reset connection is said in words") {
  reset_server resetting;
  auto r = poll(resetting.url());
  CHECK(r.code == 0);
  CHECK_MESSAGE((r.status == "connection reset by peer"
                 || r.status.find("empty reply") == 0),
                r.status);
}

TEST_CASE_FIXTURE(poller_fixture,
                  "a target that never answers times out after its timeout") {
  auto r = poll(server.url("/never"), 300ms);
  CHECK(r.code == 0);
  CHECK(r.status == "timed out after 300ms");
  CHECK(r.latency >= 300ms);
  CHECK(r.latency < 3s);
}

TEST_CASE_FIXTURE(poller_fixture,
                  "a silent target does not hold up the next poll") {
  auto one = spawn_pollers(sys, 1);
  self->send(one, poll_atom_v, poll_request{server.url("/never"), 10s});
  poll_result quick;
  self->request(one, 20s, poll_atom_v, poll_request{server.url("/ok"), 5s})
    .receive([&](poll_result& r) { quick = std::move(r); },
             [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK(quick.code == 200);
  CHECK(quick.latency < 5s);
  self->send_exit(one, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(poller_fixture, "error texts never show a URL's password") {
  auto url = "http://user:hunter2@127.0.0.1:" + std::to_string(closed_port())
             + "/";
  auto r = poll(url);
  CHECK(r.status.find("hunter2") == std::string::npos);
}
