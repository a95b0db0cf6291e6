// once is a check, not a second daemon: the built binary beside a daemon on
// the same config file, and the exit code cron and CI read.
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"
#include "support/waiting.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

std::string refused_url() {
  return "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
}

} // namespace

TEST_CASE("once beside a daemon on the same config file alerts no one and "
          "writes no events and no history") {
  http_server server;
  temp_dir dir;
  std::string conf = "[urlpoll]\ntargets = [\n";
  conf += "  { name = \"api\", url = \"" + server.url("/ok") + "\", ";
  conf += "interval = 200ms },\n";
  conf += "  { name = \"gone\", url = \"" + refused_url() + "\", ";
  conf += "interval = 200ms },\n]\n";
  conf += "alerts = [{ name = \"ops\", url = \"" + server.url("/hook") +
          "\", repeat-interval = 0s }]\n";
  conf += "events = \"events.jsonl\"\n";
  auto file = dir.write("my.conf", conf);
  auto events = dir.path + "/events.jsonl";
  auto history = dir.path + "/urlpoll-history.db";
  std::vector<std::string> once{"--config-file=" + file, "--urlpoll.once"};
  // Alone: nothing but its answer.
  auto alone = run_urlpoll(once, dir.path);
  CHECK_MESSAGE(alone.exit_code == 1, alone.err);
  CHECK(server.hooks().empty());
  CHECK_FALSE(std::filesystem::exists(events));
  CHECK_FALSE(std::filesystem::exists(history));
  // Beside the daemon, once the daemon has alerted its down target.
  running_urlpoll daemon{dir.path, {"--config-file=" + file}};
  REQUIRE(eventually([&] {
    return count_of(server.hooks(), "down") == 1 &&
           events_in(events).size() == 2;
  }));
  auto hooks = server.hooks().size();
  auto beside = run_urlpoll(once, dir.path);
  REQUIRE_MESSAGE(beside.exit_code == 1, beside.err);
  auto doc = nlohmann::json::parse(beside.out);
  CHECK(target(doc, "api")["state"] == "up");
  CHECK(target(doc, "gone")["state"] == "down");
  CHECK(doc["history"].is_null());
  CHECK_MESSAGE(server.hooks().size() == hooks,
                "once alerted: " << server.hooks().back());
  CHECK(events_in(events).size() == 2);
}

TEST_CASE("once: one poll decides, so a refused connection is down even "
          "with failure-threshold = 3") {
  temp_dir dir;
  auto r =
    run_urlpoll({"--urlpoll.once", "--urlpoll.failure-threshold=3",
                 "--urlpoll.retry-interval=100ms",
                 "--urlpoll.targets=[{name=\"own\", url=\"" + refused_url() +
                   "\", failure-threshold=3, retry-interval=100ms}]",
                 "--urlpoll.urls=[\"" + refused_url() + "\"]"},
                dir.path);
  CHECK(r.exit_code == 1);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["targets"].size() == 2);
  for (auto& t : doc["targets"]) {
    CAPTURE(t);
    CHECK(t["state"] == "down");
    CHECK(t["status"] == "connection refused");
    CHECK(t["polls"] == 1);
    CHECK(t["flapping"] == false);
  }
  CHECK(doc["counts"]["down"] == 2);
}

TEST_CASE("once: a degraded target answered, so it exits 0, and a down one "
          "beside it makes it 1") {
  http_server server;
  temp_dir dir;
  auto slow = "--urlpoll.targets=[{name=\"slow\", url=\"" +
              server.url("/slow") + "\", degraded-latency=50ms}]";
  auto degraded = run_urlpoll(
    {"--urlpoll.once", slow, "--urlpoll.urls=[\"" + server.url("/ok") + "\"]"},
    dir.path);
  CHECK_MESSAGE(degraded.exit_code == 0, degraded.err);
  auto doc = nlohmann::json::parse(degraded.out);
  CHECK(target(doc, "slow")["state"] == "degraded");
  CHECK(doc["counts"]["degraded"] == 1);
  CHECK(doc["counts"]["up"] == 1);
  auto down = run_urlpoll(
    {"--urlpoll.once", slow, "--urlpoll.urls=[\"" + refused_url() + "\"]"},
    dir.path);
  CHECK(down.exit_code == 1);
}
