// Changing the configuration of a running urlpoll: SIGHUP, POST /-/reload
// and the file watch, against the built binary and a real local server.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A config file of `targets` entries ({name = url}), polled every 200ms.
std::string config_of(const std::map<std::string, std::string>& targets,
                      const std::string& extra = {}) {
  std::string out =
    "[urlpoll]\nstatus-interval = 1h\n" + extra + "targets = [\n";
  for (auto& [name, url] : targets)
    out += "  { name = \"" + name + "\", url = \"" + url +
           "\", interval = 200ms },\n";
  return out + "]\n";
}

bool polled(const nlohmann::json& status, const std::string& name,
            int at_least = 1) {
  auto t = target(status, name);
  return !t.is_null() && t["polls"].get<int>() >= at_least;
}

/// A running urlpoll reading its configuration from dir/urlpoll.conf.
struct reload_fixture {
  http_server server;
  temp_dir dir;
  std::string file;

  explicit reload_fixture(const std::string& config)
    : file(dir.write("urlpoll.conf", config)) {
    // nop
  }

  /// Replaces the config file as an editor does: a new file renamed over
  /// the old one.
  void rewrite(const std::string& config) {
    auto next = dir.write("urlpoll.conf.new", config);
    std::filesystem::rename(next, file);
  }

  std::vector<std::string> args(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--config-file=" + file);
    return extra;
  }
};

} // namespace

TEST_CASE("SIGHUP applies an added target and keeps the polls and since of "
          "the unchanged one") {
  reload_fixture f{""};
  f.rewrite(config_of({{"a", f.server.url("/ok")}}));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "a", 3); }));
  auto before = target(up.status(), "a");
  f.rewrite(
    config_of({{"a", f.server.url("/ok")}, {"b", f.server.url("/ok")}}));
  up.signal(SIGHUP);
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "b"); }));
  auto status = up.status();
  auto after = target(status, "a");
  CHECK(after["since"] == before["since"]);
  CHECK(after["polls"].get<int>() >= before["polls"].get<int>());
  auto polls = before["polls"].get<int>();
  CHECK(
    up.wait_until([&](const auto& x) { return polled(x, "a", polls + 2); }));
  CHECK(status["config"]["reloads"] == 1);
  CHECK(status["config"]["last_reload_successful"] == true);
  auto stopped = up.stop(5s);
  CHECK(stopped.exit_code == 0);
  CHECK(contains(stopped.err, "configuration reload (SIGHUP) applied"));
}

TEST_CASE("POST /-/reload: a changed rule keeps the state, a new URL starts "
          "again at unknown, a removed target leaves the status and "
          "/metrics") {
  reload_fixture f{""};
  auto ok = f.server.url("/ok");
  f.rewrite(config_of({{"same", ok},
                       {"slower", ok},
                       {"moved", f.server.url("/unavailable")},
                       {"gone", ok}}));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) {
    return polled(x, "same", 2) && polled(x, "slower", 2) &&
           target(x, "moved")["state"] == "down" && polled(x, "gone");
  }));
  auto before = up.status();
  auto config = config_of({{"same", ok}, {"moved", ok}, {"new", ok}});
  // The same target with a longer interval: a changed rule.
  config.replace(config.find("targets = [\n") + 12, 0,
                 "  { name = \"slower\", url = \"" + ok +
                   "\", interval = 300ms },\n");
  f.rewrite(config);
  auto res = up.post("/-/reload");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto answer = nlohmann::json::parse(res->body);
  CHECK(answer["status"] == "ok");
  CHECK(answer["targets"] == 4);
  CHECK(answer["added"] == 1);
  CHECK(answer["changed"] == 1);
  CHECK(answer["url_changed"] == 1);
  CHECK(answer["removed"] == 1);
  CHECK(answer["unchanged"] == 1);
  auto status = up.status();
  CHECK(target(status, "gone").is_null());
  CHECK(target(status, "slower")["since"] == target(before, "slower")["since"]);
  CHECK(target(status, "slower")["polls"].get<int>() >=
        target(before, "slower")["polls"].get<int>());
  CHECK(target(status, "same")["since"] == target(before, "same")["since"]);
  REQUIRE(up.wait_until(
    [](const auto& x) { return target(x, "moved")["state"] == "up"; }));
  auto detail = up.get("/api/v1/targets/moved");
  REQUIRE(detail);
  auto transitions = nlohmann::json::parse(detail->body)["transitions"];
  REQUIRE(transitions.size() >= 3);
  auto n = transitions.size();
  CHECK(transitions[n - 3]["to"] == "down");
  CHECK(transitions[n - 2]["from"] == "down");
  CHECK(transitions[n - 2]["to"] == "unknown");
  CHECK(contains(transitions[n - 2]["status"], "the URL changed"));
  CHECK(transitions[n - 1]["to"] == "up");
  auto metrics = up.get("/metrics");
  REQUIRE(metrics);
  CHECK_FALSE(contains(metrics->body, "target=\"gone\""));
  CHECK(contains(metrics->body, "target=\"new\""));
}

TEST_CASE("a bad file is refused with 400 and its errors, the running "
          "configuration keeps polling, and the metrics say so") {
  reload_fixture f{""};
  f.rewrite(config_of({{"a", f.server.url("/ok")}}));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "a"); }));
  f.rewrite(config_of({{"a", f.server.url("/ok")}, {"b", "ftp://x/"}},
                      "pollers = abc\n"));
  auto res = up.post("/-/reload");
  REQUIRE(res);
  CHECK(res->status == 400);
  auto answer = nlohmann::json::parse(res->body);
  CHECK(answer["status"] == "error");
  REQUIRE(!answer["errors"].empty());
  CHECK(contains(answer["errors"][0], "urlpoll.conf:3"));
  CHECK(contains(answer["errors"][0], "pollers"));
  auto polls = target(up.status(), "a")["polls"].get<int>();
  REQUIRE(
    up.wait_until([&](const auto& x) { return polled(x, "a", polls + 2); }));
  auto status = up.status();
  CHECK(target(status, "b").is_null());
  CHECK(status["config"]["last_reload_successful"] == false);
  auto metrics = up.get("/metrics");
  REQUIRE(metrics);
  CHECK(contains(metrics->body, "urlpoll_config_last_reload_successful 0"));
  CHECK(contains(metrics->body,
                 "urlpoll_config_reloads_total{outcome=\"failure\"} 1"));
  // Fixed, it applies, and the metric says so again.
  f.rewrite(
    config_of({{"a", f.server.url("/ok")}, {"b", f.server.url("/ok")}}));
  res = up.post("/-/reload");
  REQUIRE(res);
  CHECK(res->status == 200);
  metrics = up.get("/metrics");
  REQUIRE(metrics);
  CHECK(contains(metrics->body, "urlpoll_config_last_reload_successful 1"));
}

TEST_CASE("watch-config reloads within 2s of an editor's write and rename") {
  reload_fixture f{""};
  f.rewrite(config_of({{"a", f.server.url("/ok")}}, "watch-config = true\n"));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "a"); }));
  auto changed = std::chrono::steady_clock::now();
  f.rewrite(config_of({{"a", f.server.url("/ok")}, {"b", f.server.url("/ok")}},
                      "watch-config = true\n"));
  REQUIRE(
    up.wait_until([](const auto& x) { return !target(x, "b").is_null(); }, 5s));
  CHECK(std::chrono::steady_clock::now() - changed < 2s);
  // An in-place write (truncate and write, as `cat > file` does) too.
  std::ofstream{f.file} << config_of({{"b", f.server.url("/ok")}},
                                     "watch-config = true\n");
  REQUIRE(
    up.wait_until([](const auto& x) { return target(x, "a").is_null(); }, 5s));
}

TEST_CASE("a removed target's open down alert is resolved, saying it was "
          "removed from the configuration") {
  reload_fixture f{""};
  auto alerts = "alerts = [{ name = \"ops\", type = \"webhook\", url = \"" +
                f.server.url("/hook") + "\" }]\n";
  f.rewrite(config_of(
    {{"a", f.server.url("/unavailable")}, {"b", f.server.url("/ok")}}, alerts));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until(
    [&](const auto&) { return f.server.hooks().size() >= 1; }, 10s));
  f.rewrite(config_of({{"b", f.server.url("/ok")}}, alerts));
  up.signal(SIGHUP);
  REQUIRE(up.wait_until(
    [&](const auto&) { return f.server.hooks().size() >= 2; }, 10s));
  auto hooks = f.server.hooks();
  auto down = nlohmann::json::parse(hooks[0]);
  CHECK(down["event"] == "down");
  CHECK(down["target"] == "a");
  auto resolved = nlohmann::json::parse(hooks[1]);
  CHECK(resolved["event"] == "resolved");
  CHECK(resolved["target"] == "a");
  CHECK(resolved["status"] == "removed from the configuration");
}

TEST_CASE("50 reloads within a second leave urlpoll running with the last "
          "file applied") {
  reload_fixture f{""};
  f.rewrite(config_of({{"t0", f.server.url("/ok")}}));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "t0"); }));
  for (int i = 1; i <= 50; ++i) {
    f.rewrite(config_of({{"t" + std::to_string(i), f.server.url("/ok")}}));
    up.signal(SIGHUP);
  }
  REQUIRE(up.wait_until([](const auto& x) {
    return x["targets"].size() == 1 && polled(x, "t50");
  }));
  auto res = up.get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto stopped = up.stop(5s);
  CHECK(stopped.exit_code == 0);
}

TEST_CASE("a reload names what needs a restart and applies the rest") {
  reload_fixture f{""};
  f.rewrite(config_of({{"a", f.server.url("/ok")}}));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "a"); }));
  // The test gives http-listen on the command line, which wins; a role
  // changed in the file cannot apply in a running process.
  f.rewrite(config_of({{"a", f.server.url("/ok")}, {"b", f.server.url("/ok")}},
                      "role = \"coordinator\"\nworkers = [\"127.0.0.1:1\"]\n"
                      "pollers = 3\n"));
  auto res = up.post("/-/reload");
  REQUIRE(res);
  CHECK(res->status == 200);
  auto answer = nlohmann::json::parse(res->body);
  REQUIRE(answer["needs_restart"].size() >= 1);
  CHECK(answer["needs_restart"][0] == "urlpoll.role");
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "b"); }));
  CHECK(up.wait_for_output(
    [](auto&, auto& err) {
      return contains(err, "urlpoll.role changed, which needs a restart");
    },
    2s));
  // The pollers it replaced stop with it, their last polls or not.
  auto stopped = up.stop(5s);
  CHECK(stopped.exit_code == 0);
}

TEST_CASE("watch-config follows a symlinked config file, as a Kubernetes "
          "ConfigMap swaps it") {
  http_server server;
  temp_dir dir;
  namespace fs = std::filesystem;
  // dir/urlpoll.conf -> ..data/urlpoll.conf, ..data -> v1: what a ConfigMap
  // volume looks like; an update swaps ..data to v2 in one rename.
  fs::create_directories(dir.path + "/v1");
  fs::create_directories(dir.path + "/v2");
  dir.write("v1/urlpoll.conf",
            config_of({{"a", server.url("/ok")}}, "watch-config = true\n"));
  fs::create_directory_symlink("v1", dir.path + "/..data");
  fs::create_symlink("..data/urlpoll.conf", dir.path + "/urlpoll.conf");
  running_urlpoll up{dir.path, {"--config-file=urlpoll.conf"}};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "a"); }));
  dir.write("v2/urlpoll.conf",
            config_of({{"a", server.url("/ok")}, {"b", server.url("/ok")}},
                      "watch-config = true\n"));
  fs::create_directory_symlink("v2", dir.path + "/..data_tmp");
  fs::rename(dir.path + "/..data_tmp", dir.path + "/..data");
  CHECK(up.wait_until([](const auto& x) { return polled(x, "b"); }, 5s));
}

TEST_CASE("a reload turns watch-config on, and later edits reload by "
          "themselves") {
  reload_fixture f{""};
  f.rewrite(config_of({{"a", f.server.url("/ok")}}));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "a"); }));
  f.rewrite(config_of({{"a", f.server.url("/ok")}, {"b", f.server.url("/ok")}},
                      "watch-config = true\n"));
  up.signal(SIGHUP);
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "b"); }));
  f.rewrite(config_of({{"c", f.server.url("/ok")}}, "watch-config = true\n"));
  CHECK(up.wait_until([](const auto& x) { return polled(x, "c"); }, 5s));
}

TEST_CASE("after logrotate moved the events file away, a reload writes a new "
          "one, where a removed target says it left") {
  reload_fixture f{""};
  auto events = "events = \"events.jsonl\"\n";
  f.rewrite(config_of({{"a", f.server.url("/ok")}, {"b", f.server.url("/ok")}},
                      events));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until(
    [](const auto& x) { return polled(x, "a") && polled(x, "b"); }));
  auto log = f.dir.path + "/events.jsonl";
  std::filesystem::rename(log, log + ".1");
  f.rewrite(config_of({{"b", f.server.url("/ok")}}, events));
  up.signal(SIGHUP);
  REQUIRE(
    up.wait_until([](const auto& x) { return x["targets"].size() == 1; }));
  auto stopped = up.stop(5s);
  CHECK(stopped.exit_code == 0);
  std::ifstream file{log};
  REQUIRE(file);
  std::string line;
  REQUIRE(std::getline(file, line));
  auto left = nlohmann::json::parse(line);
  CHECK(left["target"] == "a");
  CHECK(left["from"] == "up");
  CHECK(left["to"] == "unknown");
  CHECK(left["status"] == "removed from the configuration");
}

TEST_CASE("a reload keeps an unchanged target's open alert: no second down, "
          "and resolved when it recovers") {
  reload_fixture f{""};
  auto alerts = "alerts = [{ name = \"ops\", type = \"webhook\", url = \"" +
                f.server.url("/hook") + "\" }]\nretry-interval = 200ms\n";
  f.server.switch_code = 503;
  f.rewrite(config_of({{"a", f.server.url("/switch")}}, alerts));
  running_urlpoll up{f.dir.path, f.args()};
  REQUIRE(up.wait_until(
    [&](const auto&) { return f.server.hooks().size() >= 1; }, 10s));
  f.rewrite(config_of(
    {{"a", f.server.url("/switch")}, {"b", f.server.url("/ok")}}, alerts));
  up.signal(SIGHUP);
  REQUIRE(up.wait_until([](const auto& x) { return polled(x, "b", 3); }));
  // a was polled down again after the reload, and said nothing new.
  auto polls = target(up.status(), "a")["polls"].get<int>();
  REQUIRE(
    up.wait_until([&](const auto& x) { return polled(x, "a", polls + 2); }));
  f.server.switch_code = 200;
  REQUIRE(up.wait_until(
    [&](const auto&) { return f.server.hooks().size() >= 2; }, 10s));
  auto hooks = f.server.hooks();
  REQUIRE(hooks.size() == 2);
  CHECK(nlohmann::json::parse(hooks[0])["event"] == "down");
  CHECK(nlohmann::json::parse(hooks[1])["event"] == "resolved");
  CHECK(nlohmann::json::parse(hooks[1])["target"] == "a");
}
