// What urlpoll tells systemd: the service actor on the test coordinator (a
// recorder for sd_notify, a monitor and pollers that answer or do not), and
// the built binary with a notify socket of the test's own, as systemd runs
// it (NOTIFY_SOCKET, WATCHDOG_USEC, JOURNAL_STREAM).
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <caf/actor_pool.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "actors/state_monitor.hpp"
#include "app/logging.hpp"
#include "app/service.hpp"
#include "support/actor_fixtures.hpp"
#include "support/env_var.hpp"
#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A state monitor or poller that answers the watchdog's ping, or, when
// `wedged`, never does.
caf::behavior pingable(caf::event_based_actor* self, bool wedged) {
  return {
    [=](ping_atom) -> caf::result<bool> {
      if (wedged)
        return self->make_response_promise<bool>();
      return true;
    },
  };
}

struct service_fixture : deterministic_fixture {
  std::vector<std::string> told;
  std::vector<caf::actor> helpers;
  service_actor svc;

  ~service_fixture() {
    for (auto& h : helpers)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    if (svc)
      caf::anon_send_exit(svc, caf::exit_reason::user_shutdown);
    run();
  }

  void start(state_monitor_actor monitor, caf::timespan watchdog) {
    service_config cfg;
    cfg.notify = [this](const std::string& x) {
      told.push_back(x);
    };
    cfg.watchdog = watchdog;
    cfg.monitor = std::move(monitor);
    svc = sys.spawn(service, std::move(cfg));
    run();
  }

  size_t count(const std::string& what) const {
    return static_cast<size_t>(std::count(told.begin(), told.end(), what));
  }
};

} // namespace

TEST_CASE("the service's status line counts the targets by state") {
  state_counts x;
  CHECK(status_line(x) == "no targets");
  x.targets = 1000;
  x.up = 998;
  x.down = 2;
  CHECK(status_line(x) == "1,000 targets: 998 up, 2 down");
  x.targets = 1234567;
  x.up = 1234560;
  x.down = 0;
  x.unknown = 7;
  x.flapping = 1;
  CHECK(status_line(x) == "1,234,567 targets: 1,234,560 up, 7 unknown, 1 "
                          "flapping");
}

TEST_CASE_FIXTURE(service_fixture, "the service says READY=1 with the status, "
                                   "RELOADING=1 and READY=1 around a reload, "
                                   "STOPPING=1 at the end") {
  monitor_output quiet;
  auto monitor =
    sys.spawn(state_monitor, plain_targets({"http://a/", "http://b/"}),
              caf::timespan{0}, quiet);
  helpers.push_back(caf::actor_cast<caf::actor>(monitor));
  start(monitor, caf::timespan{0});
  CHECK(told.empty());
  caf::anon_send(svc, ready_atom_v);
  run();
  REQUIRE(told.size() == 1);
  CHECK(told[0] == "READY=1\nSTATUS=2 targets: 2 unknown");
  // A second ready changes nothing.
  caf::anon_send(svc, ready_atom_v);
  run();
  CHECK(told.size() == 1);
  caf::anon_send(svc, reload_atom_v, std::string{"SIGHUP"});
  run();
  REQUIRE(told.size() == 2);
  CHECK(told[1] == "RELOADING=1\nSTATUS=reloading the configuration (SIGHUP)");
  caf::anon_send(svc, reloaded_atom_v, false);
  run();
  REQUIRE(told.size() == 3);
  CHECK(told[2] == "READY=1\nSTATUS=2 targets: 2 unknown");
  // Every status period: the status again.
  advance(10s);
  REQUIRE(told.size() == 4);
  CHECK(told[3] == "STATUS=2 targets: 2 unknown");
  caf::anon_send(svc, stop_atom_v);
  run();
  CHECK(told.back() == "STOPPING=1\nSTATUS=stopping");
  svc = nullptr;
}

TEST_CASE_FIXTURE(service_fixture, "the watchdog pings systemd only while "
                                   "the state monitor and every poller "
                                   "answer") {
  auto monitor = sys.spawn(pingable, false);
  helpers.push_back(monitor);
  start(caf::actor_cast<state_monitor_actor>(monitor), 2s);
  // The first check at once: the monitor answers; no pollers yet.
  CHECK(count("WATCHDOG=1") == 1);
  // Three pollers, the second wedged.
  auto fine = [this] {
    return sys.spawn(pingable, false);
  };
  std::vector<caf::actor> members{fine(), sys.spawn(pingable, true), fine()};
  size_t next = 0;
  auto pool = caf::actor_pool::make(
    sys.dummy_execution_unit(), members.size(), [&] { return members[next++]; },
    caf::actor_pool::round_robin());
  helpers.push_back(pool);
  caf::anon_send(svc, pollers_atom_v, caf::actor_cast<poller_actor>(pool));
  run();
  // Every half period a check; the wedged poller never answers within it.
  advance(1s);
  advance(1s);
  advance(1s);
  CHECK(count("WATCHDOG=1") == 1);
  // Without it (a reload gave a new pool), the pings come again.
  auto healthy = caf::actor_pool::make(sys.dummy_execution_unit(), 1, fine,
                                       caf::actor_pool::round_robin());
  helpers.push_back(healthy);
  caf::anon_send(svc, pollers_atom_v, caf::actor_cast<poller_actor>(healthy));
  run();
  advance(1s);
  advance(1s);
  CHECK(count("WATCHDOG=1") >= 2);
}

TEST_CASE_FIXTURE(service_fixture, "a wedged state monitor stops the "
                                   "watchdog's pings") {
  auto monitor = sys.spawn(pingable, true);
  helpers.push_back(monitor);
  start(caf::actor_cast<state_monitor_actor>(monitor), 2s);
  for (int i = 0; i < 6; ++i)
    advance(1s);
  CHECK(count("WATCHDOG=1") == 0);
}

TEST_CASE("log lines carry their syslog priority when stderr is the journal") {
  CHECK(render_log({log_level::error, "urlpoll: it broke"}, true) ==
        "<3>urlpoll: it broke\n");
  CHECK(render_log({log_level::notice, "a\nb"}, true) == "<5>a\n<5>b\n");
  CHECK(render_log({log_level::warning, "plain"}, false) == "plain\n");
  CHECK(parse_log_level("warning") == log_level::warning);
  CHECK_FALSE(parse_log_level("verbose"));
}

namespace {

/// A notify socket as systemd's: a datagram socket at a path in `dir`.
class notify_socket {
public:
  explicit notify_socket(const std::string& dir) : path_(dir + "/notify") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }

  ~notify_socket() { ::close(fd_); }

  const std::string& path() const { return path_; }

  /// Every datagram received until `done(all)` holds or `limit` passes.
  bool
  wait_for(const std::function<bool(const std::vector<std::string>&)>& done,
           std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done(got_)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0)
        got_.emplace_back(buf, static_cast<size_t>(n));
    }
    return true;
  }

  const std::vector<std::string>& got() const { return got_; }

private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> got_;
};

size_t told(const std::vector<std::string>& xs, const std::string& what) {
  return static_cast<size_t>(std::count_if(
    xs.begin(), xs.end(), [&](auto& x) { return contains(x, what); }));
}

} // namespace

TEST_CASE("urlpoll under systemd's notify protocol: ready, status, reload, "
          "watchdog, stopping") {
  http_server server;
  temp_dir dir;
  notify_socket sock{dir.path};
  auto urlpoll = [&] {
    env_var notify{"NOTIFY_SOCKET", sock.path()};
    env_var watchdog{"WATCHDOG_USEC", "1000000"};
    return child{URLPOLL_BINARY,
                 {"--urlpoll.urls=[\"" + server.url("/ok") + "\"]",
                  "--urlpoll.poll-interval=1s", "--urlpoll.status-interval=1h"},
                 dir.path};
  }();
  REQUIRE(
    sock.wait_for([](auto& xs) { return told(xs, "READY=1") >= 1; }, 10s));
  auto ready = std::find_if(sock.got().begin(), sock.got().end(),
                            [](auto& x) { return contains(x, "READY=1"); });
  CHECK_MESSAGE(contains(*ready, "READY=1\nSTATUS=1 target: 1 "), *ready);
  // A watchdog ping every half second.
  CHECK(
    sock.wait_for([](auto& xs) { return told(xs, "WATCHDOG=1") >= 3; }, 5s));
  urlpoll.signal(SIGHUP);
  CHECK(sock.wait_for(
    [](auto& xs) {
      return told(xs, "RELOADING=1") == 1 && told(xs, "READY=1") >= 2;
    },
    10s));
  urlpoll.signal(SIGTERM);
  CHECK(
    sock.wait_for([](auto& xs) { return told(xs, "STOPPING=1") == 1; }, 10s));
  CHECK(urlpoll.wait(10s).exit_code == 0);
}

TEST_CASE("with stderr on the journal each line has its priority, and "
          "log-level keeps out the less urgent") {
  http_server server;
  temp_dir dir;
  // As systemd does: JOURNAL_STREAM names stderr's device and inode.
  auto run = [&](const std::string& level) {
    std::string cmd = "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) "
                      "exec '" URLPOLL_BINARY "' --urlpoll.once "
                      "--urlpoll.log-level=" +
                      level + " '--urlpoll.urls=[\"" +
                      server.url("/code?c=503") + "\"]' --urlpoll.http-listen=";
    child sh{"/bin/sh", {"-c", cmd}, dir.path};
    return sh.wait(20s);
  };
  auto all = run("info");
  CHECK(all.exit_code == 1);
  CHECK_MESSAGE(contains(all.err, "<4>"), all.err);
  for (size_t at = 0, end; (end = all.err.find('\n', at)) != std::string::npos;
       at = end + 1)
    CHECK_MESSAGE(all.err[at] == '<', all.err.substr(at, end - at));
  auto errors_only = run("error");
  CHECK(errors_only.exit_code == 1);
  CHECK_MESSAGE(!contains(errors_only.err, "<4>"), errors_only.err);
  // Without the journal: no prefixes.
  auto plain =
    run_urlpoll({"--urlpoll.once",
                 "--urlpoll.urls=[\"" + server.url("/code?c=503") + "\"]"},
                dir.path);
  CHECK_MESSAGE(!contains(plain.err, "<4>"), plain.err);
  CHECK(!plain.err.empty());
}
