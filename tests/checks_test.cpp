// Each per-target rule against a real local server, HTTP and HTTPS: what the
// poller sends, what it reads, and how it judges the answer.
#include <thread>

#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

#include "actors/health.hpp"
#include "actors/poller.hpp"
#include "actors/transfer_outcome.hpp"
#include "support/actor_fixtures.hpp"
#include "support/http_server.hpp"
#include "support/pki.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

struct checks_fixture : threaded_fixture {
  poller_actor pollers = spawn_pool(1);

  poll_request request(const std::string& url) {
    poll_request r;
    r.url = url;
    r.timeout = 5s;
    r.due = caf::make_timestamp();
    return r;
  }

  poll_result poll(const poll_request& r) {
    poll_result out;
    self->request(pollers, 20s, poll_atom_v, r)
      .receive([&](poll_result& x) { out = std::move(x); },
               [&](caf::error& err) { FAIL(sys.render(err)); });
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(checks_fixture, "expect: the codes that count as up") {
  http_server server;
  auto r = request(server.url("/code?c=404"));
  CHECK(poll(r).verdict == target_state::down);
  r.expect = {{404, 404}};
  auto found = poll(r);
  CHECK(found.verdict == target_state::up);
  CHECK(found.status == "404 Not Found");
  r.url = server.url("/code?c=200");
  auto unexpected = poll(r);
  CHECK(unexpected.verdict == target_state::down);
  CHECK(unexpected.status == "200 OK (expected 404)");
}

TEST_CASE_FIXTURE(checks_fixture, "method GET and body-match, on a body read "
                                  "only up to max-body") {
  http_server server;
  auto r = request(server.url("/body"));
  r.method = http_method::get;
  r.body_match = "healthy";
  CHECK(poll(r).verdict == target_state::up);
  r.body_match = "/status: (healthy|ok)$/";
  CHECK(poll(r).verdict == target_state::up);
  r.body_match = "sick";
  auto sick = poll(r);
  CHECK(sick.verdict == target_state::down);
  CHECK(sick.status == "200 OK, but the body does not contain \"sick\"");
  // 1 MiB of body, 4 KiB read: the start is seen, the end is not, and the
  // transfer ends at the bound instead of reading the rest.
  r.url = server.url("/big");
  r.max_body = 4096;
  r.body_match = "start";
  auto start = poll(r);
  CHECK(start.verdict == target_state::up);
  CHECK(start.code == 200);
  r.body_match = "end";
  CHECK(poll(r).status == "200 OK, but the body does not contain \"end\"");
  // A hostile body cannot crash the poller through a /regex/: with
  // std::regex, one recursion per character overflowed the stack on this
  // 1 MiB body (found by fuzzing); RE2 matches in linear time.
  r.max_body = 2 << 20;
  r.body_match = "/start(.|\\s)*end/";
  CHECK(poll(r).verdict == target_state::up);
  r.body_match = "/(a|b)*c/";
  CHECK(poll(r).verdict == target_state::down);
}

TEST_CASE_FIXTURE(checks_fixture, "a HEAD refused with 405 is retried once "
                                  "with GET, and the result says so") {
  http_server server;
  auto result = poll(request(server.url("/no-head")));
  CHECK(result.code == 200);
  CHECK(result.verdict == target_state::up);
  CHECK(result.head_refused);
  CHECK(server.methods() == std::vector<std::string>{"HEAD", "GET"});
  // Where HEAD works, nothing changes.
  auto plain = poll(request(server.url("/ok")));
  CHECK_FALSE(plain.head_refused);
}

TEST_CASE_FIXTURE(checks_fixture, "headers are sent with every poll") {
  http_server server;
  auto r = request(server.url("/token"));
  CHECK(poll(r).code == 401);
  r.headers = {"X-Token: secret"};
  CHECK(poll(r).code == 200);
  // The handle keeps no header for the next poll.
  r.headers.clear();
  CHECK(poll(r).code == 401);
}

TEST_CASE_FIXTURE(checks_fixture, "redirects: followed when asked, a loop and "
                                  "an unsupported scheme are down in words") {
  http_server server;
  auto r = request(server.url("/redirect"));
  CHECK(poll(r).code == 302);
  r.follow_redirects = true;
  CHECK(poll(r).code == 200);
  r.url = server.url("/loop");
  r.max_redirects = 5;
  auto loop = poll(r);
  CHECK(loop.verdict == target_state::down);
  CHECK(loop.status == "more than 5 redirects: a redirect loop?");
  r.url = server.url("/to-ftp");
  auto ftp = poll(r);
  CHECK(ftp.verdict == target_state::down);
  CHECK(ftp.status.rfind("redirected to an unsupported scheme", 0) == 0);
}

TEST_CASE_FIXTURE(checks_fixture, "degraded-latency makes a slow answer "
                                  "degraded") {
  http_server server{200ms};
  auto r = request(server.url("/slow"));
  r.degraded_latency = 100ms;
  auto slow = poll(r);
  CHECK(slow.verdict == target_state::degraded);
  CHECK(slow.status.rfind("200 OK, but slow: ", 0) == 0);
  r.degraded_latency = 5s;
  CHECK(poll(r).verdict == target_state::up);
}

namespace {

// A CA and server certificates valid 30 days, 3 days, and expired.
struct pki_fixture : checks_fixture {
  temp_dir dir;
  pki_fixture() {
    make_ca(dir.path, "ca");
    make_cert(dir.path, "ca", "valid", 30);
    make_cert(dir.path, "ca", "soon", 3);
    make_cert(dir.path, "ca", "expired", -1);
  }
  std::string file(const std::string& name) { return dir.path + "/" + name; }

  poll_request https(const http_server& server) {
    auto r = request(server.url("/ok"));
    r.ca_file = file("ca.pem");
    r.cert_expiry_warn = 14 * 24h;
    return r;
  }
};

int days_left(const poll_result& r) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(
                            r.cert_expiry - caf::make_timestamp())
                            .count() /
                          24);
}

} // namespace

TEST_CASE_FIXTURE(pki_fixture, "TLS: the certificate's expiry is in every "
                               "result, and within cert-expiry-warn it is "
                               "degraded") {
  http_server valid{300ms, file("valid.pem"), file("valid.key")};
  auto r = https(valid);
  auto first = poll(r);
  CHECK(first.verdict == target_state::up);
  CHECK(days_left(first) == 29);
  // The next poll reuses the connection (no handshake): the expiry is still
  // known.
  CHECK(days_left(poll(r)) == 29);
  http_server soon{300ms, file("soon.pem"), file("soon.key")};
  auto warned = poll(https(soon));
  CHECK(warned.verdict == target_state::degraded);
  CHECK(warned.status.rfind("200 OK, but the certificate expires in 2 days",
                            0) == 0);
}

TEST_CASE_FIXTURE(pki_fixture, "TLS: an expired or untrusted certificate is "
                               "down in words, unless insecure") {
  http_server expired{300ms, file("expired.pem"), file("expired.key")};
  auto r = https(expired);
  auto result = poll(r);
  CHECK(result.verdict == target_state::down);
  CHECK(result.status ==
        "TLS certificate not accepted: SSL certificate problem: "
        "certificate has expired");
  http_server valid{300ms, file("valid.pem"), file("valid.key")};
  auto untrusted = https(valid);
  untrusted.ca_file.clear(); // the system's CAs do not know ours
  auto refused = poll(untrusted);
  CHECK(refused.verdict == target_state::down);
  CHECK_MESSAGE(refused.status.rfind("TLS certificate not accepted: SSL "
                                     "certificate problem: unable to get "
                                     "local issuer",
                                     0) == 0,
                refused.status);
  r.insecure = true;
  CHECK(poll(r).verdict == target_state::up);
}

TEST_CASE_FIXTURE(checks_fixture, "hostile answers end within the timeout "
                                  "with a clear result, and no other target "
                                  "notices") {
  // 100 KB of headers, a reset, and one byte a second.
  scripted_server headers{[](int fd, const std::atomic<bool>&) {
    std::string answer = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 1000; ++i)
      answer +=
        "X-Filler-" + std::to_string(i) + ": " + std::string(90, 'x') + "\r\n";
    send_all(fd, answer + "\r\n");
  }};
  reset_server reset;
  scripted_server trickle{[](int fd, const std::atomic<bool>& stopping) {
    auto text = std::string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"};
    for (size_t i = 0; i < text.size() && !stopping; ++i) {
      send_all(fd, text.substr(i, 1));
      for (int k = 0; k < 10 && !stopping; ++k)
        std::this_thread::sleep_for(100ms);
    }
  }};
  http_server healthy;
  std::vector<poll_request> requests{
    request(headers.url()), request(reset.url()), request(trickle.url()),
    request(healthy.url("/ok"))};
  requests[2].timeout = 2s;
  std::vector<poll_result> results(requests.size());
  std::vector<caf::timespan> answered(requests.size());
  auto start = caf::make_timestamp();
  for (auto& r : requests)
    self->send(pollers, poll_atom_v, r);
  // Answers come in any order: tell them apart by what they say.
  auto index_of = [](const poll_result& x) -> size_t {
    if (x.code == 200)
      return 3;
    if (x.status.find("headers") != std::string::npos)
      return 0;
    if (x.status.find("reset") != std::string::npos)
      return 1;
    return 2;
  };
  size_t got = 0;
  self->receive_for(got, requests.size())(
    [&](poll_result& x) {
      auto i = index_of(x);
      answered[i] = caf::make_timestamp() - start;
      results[i] = std::move(x);
    },
    caf::after(10s) >> [&] { FAIL("answers are missing"); });
  CHECK(results[0].status == "the answer's headers are larger than 64 KiB");
  CHECK(results[0].verdict == target_state::down);
  CHECK(results[1].status == "connection reset by peer");
  CHECK(results[2].status == "timed out after 2 s");
  CHECK(results[2].verdict == target_state::down);
  CHECK(results[3].verdict == target_state::up);
  CHECK_MESSAGE(answered[3] < 1s, "the healthy target was answered after "
                                    << format_duration(answered[3]));
}

TEST_CASE_FIXTURE(checks_fixture, "an answer that is not HTTP at all says "
                                  "so, not 'an unsupported scheme'") {
  scripted_server ssh{[](int fd, const std::atomic<bool>&) {
    send_all(fd, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  }};
  auto r = poll(request(ssh.url()));
  CHECK(r.verdict == target_state::down);
  CHECK(r.status ==
        "the answer is not HTTP: no status line (HTTP/0.9, or another "
        "protocol on this port)");
}
