#include <algorithm>
#include <map>
#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <doctest/doctest.h>

#include "actors/poller.hpp"
#include "actors/transfer_outcome.hpp"
#include "support/actor_fixtures.hpp"
#include "support/fast_http_server.hpp"
#include "support/http_server.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

poll_request make_request(const std::string& url, caf::timespan timeout,
                          bool fresh_connection = false) {
  poll_request r;
  r.url = url;
  r.timeout = timeout;
  r.due = caf::make_timestamp();
  r.fresh_connection = fresh_connection;
  return r;
}

// The server outlives the actor system: pollers close their connections
// before the server waits for its keep-alive handlers to end.
struct with_server {
  http_server server;
};

struct poller_fixture : with_server, threaded_fixture {
  poller_actor pollers = spawn_pool(2);

  poll_result poll(const std::string& url, caf::timespan timeout = 5s) {
    poll_result result;
    self->request(pollers, 20s, poll_atom_v, make_request(url, timeout))
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
  CHECK_MESSAGE((r.status == "connection reset by peer" ||
                 r.status.find("empty reply") == 0),
                r.status);
}

TEST_CASE_FIXTURE(poller_fixture,
                  "a target that never answers times out after its timeout") {
  auto r = poll(server.url("/never"), 300ms);
  CHECK(r.code == 0);
  CHECK(r.status == "timed out after 300 ms");
  CHECK(r.latency >= 300ms);
  CHECK(r.latency < 3s);
}

TEST_CASE_FIXTURE(poller_fixture,
                  "a silent target does not hold up the next poll") {
  auto one = spawn_pool(1);
  self->send(one, poll_atom_v, make_request(server.url("/never"), 10s));
  poll_result quick;
  self->request(one, 20s, poll_atom_v, make_request(server.url("/ok"), 5s))
    .receive([&](poll_result& r) { quick = std::move(r); },
             [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK(quick.code == 200);
  CHECK(quick.latency < 5s);
}

TEST_CASE_FIXTURE(poller_fixture, "error texts never show a URL's password") {
  // libcurl's texts name the host, never the user or the password: a
  // password shows in one only where its text is also in what the text
  // names. Here in the host, which cannot be resolved (an empty label: the
  // resolver refuses it without asking any DNS server).
  auto r = poll("http://user:hunter2@hunter2..invalid/");
  CHECK(r.code == 0);
  CHECK(r.status == "could not resolve host: ***..invalid");
}

TEST_CASE_FIXTURE(poller_fixture,
                  "a result carries the timing breakdown and the lateness") {
  auto request = make_request(server.url("/ok"), 5s);
  request.due -= 250ms;
  poll_result r;
  self->request(pollers, 20s, poll_atom_v, request)
    .receive([&](poll_result& x) { r = std::move(x); },
             [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK(r.code == 200);
  CHECK(r.lateness >= 250ms);
  CHECK(r.lateness < 5s);
  CHECK(r.timings.connect > 0s);
  CHECK(r.timings.first_byte >= r.timings.connect);
  CHECK(r.latency >= r.timings.first_byte);
  CHECK_MESSAGE(r.timings.tls == 0s, "no TLS over plain HTTP");
}

namespace {

/// What came back for each of many requests.
struct tally {
  std::vector<int> answers;
  std::vector<poll_result> results;
  size_t done = 0;
};

/// Sends every request to `pollers` at once from a helper actor and returns
/// what came back once every request has an answer (or 30s have passed,
/// 100s under ThreadSanitizer).
std::shared_ptr<tally> poll_all(caf::actor_system& sys, caf::scoped_actor& self,
                                const poller_actor& pollers,
                                const std::vector<poll_request>& requests) {
  auto t = std::make_shared<tally>();
  t->answers.resize(requests.size());
  t->results.resize(requests.size());
  auto n = requests.size();
  auto collect = [n](caf::event_based_actor* a, std::shared_ptr<tally> t,
                     poller_actor pollers, std::vector<poll_request> requests,
                     caf::actor main) {
    for (size_t i = 0; i < n; ++i)
      a->request(pollers, caf::infinite, poll_atom_v, requests[i])
        .then(
          [=](poll_result& r) {
            ++t->answers[i];
            t->results[i] = std::move(r);
            if (++t->done == n)
              a->send(main, caf::ok_atom::value);
          },
          [=](caf::error&) {
            if (++t->done == n)
              a->send(main, caf::ok_atom::value);
          });
  };
  sys.spawn(collect, t, pollers, requests, caf::actor{self});
  // ThreadSanitizer makes every poll several times slower.
#ifdef __SANITIZE_THREAD__
  constexpr auto limit = 100s;
#else
  constexpr auto limit = 30s;
#endif
  self->receive([](caf::ok_atom) {},
                caf::after(limit) >> [] { FAIL("answers are missing"); });
  return t;
}

} // namespace

TEST_CASE_FIXTURE(threaded_fixture,
                  "one poller holds 1,000 polls in flight, and each of 2,000 "
                  "ends in exactly one result") {
  fast_http_server server;
  auto one = spawn_pool(1);
  // 1,000 polls the server never answers, among 1,000 it answers at once.
  std::vector<poll_request> requests;
  for (int i = 0; i < 1000; ++i) {
    requests.push_back(
      make_request(server.url("/never?i=" + std::to_string(i)), 3s));
    requests.push_back(
      make_request(server.url("/ok?i=" + std::to_string(i)), 10s));
  }
  auto t = poll_all(sys, self, one, requests);
  auto& answers = t->answers;
  auto& results = t->results;
  CHECK(
    std::all_of(answers.begin(), answers.end(), [](int n) { return n == 1; }));
  caf::timestamp first_silent = caf::timestamp::max();
  caf::timestamp last_silent = caf::timestamp::min();
  int timed_out = 0;
  int ok = 0;
  for (size_t i = 0; i < results.size(); i += 2) {
    timed_out += results[i].status == "timed out after 3 s" ? 1 : 0;
    first_silent = std::min(first_silent, results[i].time);
    last_silent = std::max(last_silent, results[i].time);
    ok += results[i + 1].code == 200 ? 1 : 0;
  }
  CHECK(timed_out == 1000);
  CHECK(ok == 1000);
  CHECK(server.answered == 1000);
  // The last silent poll started before the first could time out: all 1,000
  // were in flight at once, and the answered ones were not held up by them.
  CHECK_MESSAGE(last_silent - first_silent < 3s,
                "started over " << duration_text(last_silent - first_silent));
}

TEST_CASE_FIXTURE(threaded_fixture,
                  "a target that never answers among 3,000 that do: each "
                  "poll ends in exactly one result") {
  fast_http_server server;
  auto one = spawn_pool(1);
  std::vector<poll_request> requests;
  requests.push_back(make_request(server.url("/never"), 1500ms));
  for (int i = 0; i < 3000; ++i)
    requests.push_back(
      make_request(server.url("/ok?i=" + std::to_string(i)), 10s));
  auto t = poll_all(sys, self, one, requests);
  CHECK(std::all_of(t->answers.begin(), t->answers.end(),
                    [](int n) { return n == 1; }));
  CHECK(t->results[0].status == "timed out after 1.5 s");
  CHECK(std::count_if(t->results.begin() + 1, t->results.end(),
                      [](auto& r) { return r.code == 200; }) == 3000);
  CHECK(server.answered == 3000);
}

TEST_CASE_FIXTURE(threaded_fixture,
                  "the pool fills its first poller before waking a second") {
  fast_http_server server;
  auto two = spawn_pool(2);
  // One poll at a time: the first poller is never busy, so it takes every
  // poll and its one kept-alive connection carries them all. Round robin
  // would open a connection from each poller.
  for (int i = 0; i < 10; ++i)
    self->request(two, 20s, poll_atom_v, make_request(server.url("/ok"), 5s))
      .receive([](poll_result& r) { CHECK(r.code == 200); },
               [&](caf::error& err) { FAIL(sys.render(err)); });
  CHECK(server.answered == 10);
  CHECK(server.accepted == 1);
}

TEST_CASE_FIXTURE(threaded_fixture,
                  "polls past the first poller's share go to the next") {
  fast_http_server server;
  // Each poller holds at most 64 transfers: had the first taken all 100
  // silent polls, 36 would wait for the first ones to time out.
  auto two = spawn_pool(2, 64);
  std::vector<poll_request> silent(100, make_request(server.url("/never"), 2s));
  auto t = poll_all(sys, self, two, silent);
  auto [first, last] =
    std::minmax_element(t->results.begin(), t->results.end(),
                        [](auto& a, auto& b) { return a.time < b.time; });
  CHECK(std::all_of(t->results.begin(), t->results.end(),
                    [](auto& r) { return r.status == "timed out after 2 s"; }));
  CHECK_MESSAGE(last->time - first->time < 2s,
                "started over " << duration_text(last->time - first->time));
}

TEST_CASE_FIXTURE(threaded_fixture,
                  "fresh-connection opens a new connection for every poll") {
  fast_http_server server;
  auto one = spawn_pool(1);
  auto poll_twice = [&](bool fresh) {
    for (int i = 0; i < 2; ++i)
      self
        ->request(one, 20s, poll_atom_v,
                  make_request(server.url("/ok"), 5s, fresh))
        .receive([](poll_result& r) { CHECK(r.code == 200); },
                 [&](caf::error& err) { FAIL(sys.render(err)); });
  };
  poll_twice(false);
  CHECK_MESSAGE(server.accepted == 1, "keep-alive reuses the connection");
  poll_twice(true);
  CHECK(server.accepted == 3);
}

TEST_CASE_FIXTURE(threaded_fixture,
                  "past max-in-flight, polls wait in line for a free slot") {
  fast_http_server server;
  auto one = spawn_pool(1, 1);
  std::vector<poll_request> requests{make_request(server.url("/never"), 500ms),
                                     make_request(server.url("/ok"), 5s)};
  auto t = poll_all(sys, self, one, requests);
  CHECK(t->answers == std::vector<int>{1, 1});
  CHECK(t->results[0].status == "timed out after 500 ms");
  CHECK(t->results[1].code == 200);
  CHECK_MESSAGE(t->results[1].lateness >= 450ms,
                "the second poll started when the first one ended");
}
