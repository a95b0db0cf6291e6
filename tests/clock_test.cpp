// The system clock stepping under a running urlpoll, as an NTP step or
// `date -s` does: the built binary runs under libfaketime (Debian's
// faketime), whose offset the test moves by an hour forward and back while
// the monotonic clock runs on.
#include <filesystem>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/env_var.hpp"
#include "support/http_server.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"
#include "support/waiting.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

std::string libfaketime() {
  for (auto path : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                    "/usr/lib/faketime/libfaketime.so.1"})
    if (std::filesystem::exists(path))
      return path;
  return {};
}

// The environment of the processes started while it lives: the system
// clock (CLOCK_REALTIME) is off by what the file `offset` says ("+1h"),
// read again every second; the monotonic clock is the real one.
// Under the sanitizers of scripts/sanitize: AddressSanitizer accepts
// libfaketime ahead of its runtime when told so; ThreadSanitizer does not see
// the mutex that libfaketime's pthread_cond_timedwait releases and takes
// again, and would report it as locked twice (its data race reports stay on).
struct faked_clock {
  faked_clock(const std::string& preload, const std::string& offset)
    : preload_{"LD_PRELOAD", preload}, file_{"FAKETIME_TIMESTAMP_FILE", offset},
      cache_{"FAKETIME_CACHE_DURATION", "1"},
      monotonic_{"FAKETIME_DONT_FAKE_MONOTONIC", "1"},
      asan_{"ASAN_OPTIONS",
            env_var::after("ASAN_OPTIONS", "verify_asan_link_order=0", ":")},
      tsan_{"TSAN_OPTIONS",
            env_var::after("TSAN_OPTIONS", "report_mutex_bugs=0", " ")} {}

private:
  env_var preload_, file_, cache_, monotonic_, asan_, tsan_;
};

// Waits until urlpoll said `line` on stderr.
bool says(running_urlpoll& up, const std::string& line) {
  return up.wait_for_output(
    [&](const std::string&, const std::string& err) {
      return err.find(line) != std::string::npos;
    },
    10s);
}

// The requests the server had over the next `span`.
int polls_over(http_server& server, running_urlpoll& up,
               std::chrono::milliseconds span) {
  auto before = server.requests.load();
  up.wait_for_output([](auto&, auto&) { return false; }, span);
  return server.requests.load() - before;
}

} // namespace

TEST_CASE("the system clock stepping an hour forward and back: polls keep "
          "their pace, no reminder comes early, lateness stays true, and the "
          "skipped hour is a gap in the uptime, not an hour down") {
  auto preload = libfaketime();
  REQUIRE_MESSAGE(!preload.empty(),
                  "libfaketime is missing: scripts/setup installs it "
                  "(Debian's faketime package)");
  http_server server;
  temp_dir dir;
  auto offset = dir.write("offset", "+0\n");
  faked_clock faked{preload, offset};
  // Every 200 ms, 5 polls a second also while it fails; a reminder after 20
  // minutes (which a step of an hour must not bring forward).
  running_urlpoll up{dir.path,
                     {"--urlpoll.targets=[{name=\"shop\", url=\"" +
                        server.url("/switch") + "\", interval=200ms}]",
                      "--urlpoll.alerts=[{name=\"ops\", url=\"" +
                        server.url("/hook") + "\", repeat-interval=20min}]",
                      "--urlpoll.error-backoff=100ms",
                      "--urlpoll.max-backoff=200ms"},
                     URLPOLL_GLIBC_MALLOC_BINARY};
  auto shop = [&] {
    return up.status()["targets"][0];
  };
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["state"] == "up" && x["targets"][0]["polls"] >= 3;
  }));
  auto from = up.status()["time"].get<std::string>();
  server.switch_code = 503;
  REQUIRE(eventually([&] { return count_of(server.hooks(), "down") == 1; }));
  auto polls = shop()["polls"].get<int>();
  REQUIRE(up.wait_until([&](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= polls + 3;
  }));

  // Forward by an hour, during the outage.
  dir.write("offset", "+1h\n");
  REQUIRE(says(up, "the system clock stepped forward by 1h00m"));
  auto after_forward = polls_over(server, up, 2s);
  CHECK_MESSAGE(after_forward <= 16, "a burst of polls after the step");
  CHECK_MESSAGE(after_forward >= 4, "polls stalled after the step");
  CHECK_MESSAGE(count_of(server.hooks(), "reminder") == 0,
                "the step of an hour brought the 20-minute reminder forward");
  server.switch_code = 200;
  REQUIRE(
    eventually([&] { return count_of(server.hooks(), "resolved") == 1; }));
  polls = shop()["polls"].get<int>();
  REQUIRE(up.wait_until([&](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= polls + 5;
  }));
  // Seconds up, seconds down, and the hour skipped in none of them: counted
  // as down, it would make the uptime 0.001.
  auto history = up.get("/api/v1/targets/shop/history?step=1h&from=" + from);
  REQUIRE(history);
  REQUIRE(history->status == 200);
  auto uptime = nlohmann::json::parse(history->body)["uptime"];
  REQUIRE(uptime.is_number());
  CHECK(uptime.get<double>() > 0.1);
  CHECK(uptime.get<double>() < 0.95);
  auto figures = shop()["uptime"];
  REQUIRE(figures["1h"].is_number());
  CHECK(figures["1h"].get<double>() > 0.1);

  // Back by the hour.
  dir.write("offset", "+0\n");
  REQUIRE(says(up, "the system clock stepped back by 1h00m"));
  auto after_back = polls_over(server, up, 2s);
  CHECK_MESSAGE(after_back <= 16, "a burst of polls after the step back");
  CHECK_MESSAGE(after_back >= 4, "polls stalled after the step back");
  // Alerts go out at once, and no figure is negative or an hour long.
  server.switch_code = 503;
  CHECK(eventually([&] { return count_of(server.hooks(), "down") == 2; }));
  auto status = up.status();
  auto& lateness = status["lateness"];
  CHECK(lateness["p50_ms"].get<double>() >= 0);
  CHECK(lateness["max_ms"].get<double>() < 1000);
  auto x = status["targets"][0];
  CHECK(x["latency_ms"].get<double>() >= 0);
  CHECK(x["latency_ms"].get<double>() < 1000);
  for (auto window : {"1h", "24h"})
    if (x["uptime"][window].is_number()) {
      CHECK(x["uptime"][window].get<double>() >= 0);
      CHECK(x["uptime"][window].get<double>() <= 1);
    }
  CHECK(count_of(server.hooks(), "reminder") == 0);
  CHECK(up.stop(10s).exit_code == 0);
}
