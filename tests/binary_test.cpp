// The built urlpoll binary, end to end, against a real local HTTP server.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

#include <caf/config.hpp>
#include <curl/curl.h>
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

std::string urls_option(std::initializer_list<std::string> urls) {
  std::string result = "--urlpoll.urls=[";
  for (auto& url : urls) {
    if (result.back() != '[')
      result += ',';
    result += '"' + url + '"';
  }
  return result + "]";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

TEST_CASE("once: a healthy target prints the snapshot and exits 0") {
  http_server server;
  temp_dir dir;
  auto r =
    run_urlpoll({"--urlpoll.once", urls_option({server.url("/ok")})}, dir.path);
  CHECK(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["targets"].size() == 1);
  CHECK(doc["targets"][0]["url"] == server.url("/ok"));
  CHECK(doc["targets"][0]["state"] == "up");
  CHECK(doc["targets"][0]["status"] == "200 OK");
  CHECK(doc["targets"][0]["code"] == 200);
  CHECK(doc["targets"][0]["polls"] == 1);
  CHECK(count_lines(r.out) == 1);
}

TEST_CASE("once: a target that answers 503 makes the exit code 1") {
  http_server server;
  temp_dir dir;
  auto r =
    run_urlpoll({"--urlpoll.once",
                 urls_option({server.url("/ok"), server.url("/unavailable")})},
                dir.path);
  CHECK(r.exit_code == 1);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["targets"].size() == 2);
  CHECK(doc["targets"][0]["state"] == "up");
  CHECK(doc["targets"][1]["state"] == "down");
  CHECK(doc["targets"][1]["status"] == "503 Service Unavailable");
  CHECK_MESSAGE(
    contains(r.err, server.url("/unavailable") + ": 503 Service Unavailable"),
    "the failure is on stderr, naming the target: " << r.err);
}

TEST_CASE("once: transport errors are down, with the error in words") {
  http_server server;
  reset_server resetting;
  temp_dir dir;
  auto refused = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
  auto r =
    run_urlpoll({"--urlpoll.once", "--urlpoll.timeout=500ms",
                 urls_option({refused, resetting.url(), server.url("/never")})},
                dir.path);
  CHECK(r.exit_code == 1);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["targets"].size() == 3);
  for (auto& t : doc["targets"]) {
    CHECK(t["state"] == "down");
    CHECK(t["code"].is_null());
  }
  CHECK(doc["targets"][0]["status"] == "connection refused");
  CHECK(doc["targets"][2]["status"] == "timed out after 500 ms");
}

TEST_CASE("the shipped configuration file is valid") {
  http_server server;
  temp_dir dir;
  auto r =
    run_urlpoll({"--config-file=" URLPOLL_SOURCE_DIR "/caf-application.conf",
                 "--urlpoll.once", urls_option({server.url("/ok")})},
                dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
}

TEST_CASE("a bad config file stops urlpoll with exit code 2 and the line") {
  temp_dir dir;
  dir.write("caf-application.conf",
            "[urlpoll]\nurls = [\"http://127.0.0.1:1/\"]\npoll-intervall = "
            "5s\n");
  auto r = run_urlpoll({}, dir.path);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "caf-application.conf:3"));
  CHECK(contains(r.err, "unknown key 'poll-intervall'"));
}

TEST_CASE("configuration errors exit 2: missing file, bad URL, no targets") {
  temp_dir dir;
  auto missing = run_urlpoll({"--config-file=nope.conf"}, dir.path);
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err, "nope.conf"));
  auto bad_url = run_urlpoll({urls_option({"gopher://x/"})}, dir.path);
  CHECK(bad_url.exit_code == 2);
  CHECK(contains(bad_url.err, "unsupported scheme 'gopher'"));
  auto nothing = run_urlpoll({}, dir.path);
  CHECK(nothing.exit_code == 2);
  CHECK(contains(nothing.err, "no targets to monitor"));
}

TEST_CASE("--help lists every option") {
  temp_dir dir;
  auto r = run_urlpoll({"--help"}, dir.path);
  CHECK(r.exit_code == 0);
  for (auto option :
       {"urls", "url-file", "pollers", "poll-interval", "error-backoff",
        "max-backoff", "timeout", "status-interval", "status-format", "once"})
    CHECK_MESSAGE(contains(r.out, std::string{"urlpoll."} + option), option);
}

TEST_CASE("status-format json prints one JSON document per interval") {
  http_server server;
  temp_dir dir;
  child c{URLPOLL_BINARY,
          {"--urlpoll.status-format=json", "--urlpoll.status-interval=200ms",
           "--urlpoll.poll-interval=100ms", urls_option({server.url("/ok")})},
          dir.path};
  CHECK(
    c.wait_for([](auto& out, auto&) { return count_lines(out) >= 3; }, 10s));
  c.signal(SIGTERM);
  auto r = c.wait(5s);
  CHECK(r.exit_code == 0);
  std::istringstream lines{r.out};
  std::string line;
  size_t documents = 0;
  while (std::getline(lines, line)) {
    auto doc = nlohmann::json::parse(line);
    CHECK(doc["targets"].size() == 1);
    ++documents;
  }
  CHECK(documents >= 4);
  CHECK_MESSAGE(server.requests >= 2, "polled every 100ms");
}

TEST_CASE("SIGTERM mid-poll stops urlpoll within 2 seconds with exit 0") {
  http_server server;
  temp_dir dir;
  for (int sig : {SIGTERM, SIGINT}) {
    CAPTURE(sig);
    auto refused = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
    auto stuck_before = server.requests.load();
    child c{URLPOLL_BINARY,
            {"--urlpoll.timeout=60s", "--urlpoll.status-interval=1h",
             "--urlpoll.start-spread=0s",
             urls_option({refused, server.url("/never")})},
            dir.path};
    // The refused poll's result is in, and /never is stuck in flight.
    REQUIRE(c.wait_for(
      [&](auto&, auto& err) {
        return contains(err, "connection refused") &&
               server.requests > stuck_before;
      },
      10s));
    auto signalled = std::chrono::steady_clock::now();
    c.signal(sig);
    auto r = c.wait(10s);
    auto took = std::chrono::steady_clock::now() - signalled;
    CHECK(r.exit_code == 0);
    CHECK(took < 2s);
    CHECK_MESSAGE(
      contains(r.out, "2 targets: 0 up, 0 degraded, 1 down, 1 unknown"),
      "the final state is printed: " << r.out);
  }
}

TEST_CASE("SIGTERM with 200000 targets prints the final state and exits 0") {
  // Stopping this many resources keeps the scheduler busy for a second or
  // more before the state monitor can answer for the final status (found by
  // bench/soak at 100,000 targets).
  temp_dir dir;
  auto refused = "http://127.0.0.1:" + std::to_string(closed_port()) + "/t";
  std::string urls;
  for (int i = 0; i < 200'000; ++i)
    urls += refused + std::to_string(i) + '\n';
  auto file = dir.write("targets.txt", urls);
  // The shipped configuration: its scheduler is one thread.
  child c{URLPOLL_BINARY,
          {"--config-file=" URLPOLL_SOURCE_DIR "/caf-application.conf",
           "--urlpoll.urls=[]", "--urlpoll.url-file=" + file,
           "--urlpoll.poll-interval=1h", "--urlpoll.start-spread=1h",
           "--urlpoll.status-interval=1h", "--urlpoll.history="},
          dir.path};
  // Running for a while: the first polls (55 a second over start-spread)
  // have failed.
  REQUIRE(c.wait_for(
    [](auto&, auto& err) {
      size_t refused = 0;
      for (auto at = err.find("connection refused"); at != std::string::npos;
           at = err.find("connection refused", at + 1))
        ++refused;
      return contains(err, "monitoring 200000 targets") && refused >= 150;
    },
    60s));
  c.signal(SIGTERM);
  auto r = c.wait(60s);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK_MESSAGE(!contains(r.err, "no final status"), r.err);
  CHECK_MESSAGE(contains(r.out, "200000 targets: 0 up, 0 degraded"),
                "the final state is printed: " << r.out.substr(0, 200));
}

TEST_CASE("a password in a URL never appears in any output") {
  http_server server;
  temp_dir dir;
  auto port = std::to_string(server.port);
  auto refused = std::to_string(closed_port());
  auto r = run_urlpoll(
    {"--urlpoll.once",
     urls_option({"http://alice:s3cr3t@127.0.0.1:" + port + "/ok",
                  "http://bob:hunter2@127.0.0.1:" + refused + "/"})},
    dir.path);
  CHECK(r.exit_code == 1);
  CHECK_FALSE(contains(r.out + r.err, "s3cr3t"));
  CHECK_FALSE(contains(r.out + r.err, "hunter2"));
  CHECK(contains(r.out, "http://alice:***@127.0.0.1:" + port + "/ok"));
  CHECK(contains(r.err, "http://bob:***@127.0.0.1:"));
}

TEST_CASE("a -file that cannot be read stops urlpoll with exit code 2, "
          "naming the option, the path and why") {
  http_server server;
  temp_dir dir;
  auto missing = dir.path + "/token";
  auto r = run_urlpoll({"--urlpoll.once", urls_option({server.url("/ok")}),
                        "--urlpoll.http-token-file=" + missing},
                       dir.path);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(contains(r.err, "urlpoll.http-token-file (set at the command "
                                "line): cannot read '" +
                                  missing + "': No such file or directory"),
                r.err);
  auto unreadable = run_urlpoll(
    {"--urlpoll.once", "--urlpoll.targets=[{url=\"" + server.url("/ok") +
                         "\", headers-file=\"" + dir.path + "\"}]"},
    dir.path);
  CHECK(unreadable.exit_code == 2);
  CHECK_MESSAGE(contains(unreadable.err, "headers-file: cannot read '" +
                                           dir.path + "': it is a directory"),
                unreadable.err);
}

TEST_CASE("headers-file: a target's request headers come from a file") {
  http_server server;
  temp_dir dir;
  auto headers = dir.write("headers", "# the API's\nX-Token: secret\n");
  auto r = run_urlpoll(
    {"--urlpoll.once", "--urlpoll.targets=[{url=\"" + server.url("/token") +
                         "\", headers-file=\"" + headers + "\"}]"},
    dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK_FALSE(contains(r.out + r.err, "secret"));
}

TEST_CASE("a url-file full of bad lines shows the first 20 errors") {
  temp_dir dir;
  std::string lines;
  for (int i = 0; i < 50; ++i)
    lines += "not a url " + std::to_string(i) + "\n";
  auto file = dir.write("urls.txt", lines);
  auto r = run_urlpoll({"--urlpoll.url-file=" + file}, dir.path);
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 21);
  CHECK(contains(r.err, file + ":1:"));
  CHECK(contains(r.err, "... and 30 more configuration errors"));
}

TEST_CASE("targets with rules: the snapshot shows them, and each transition "
          "is one JSON line in the events file") {
  http_server server;
  temp_dir dir;
  auto events = dir.path + "/events.jsonl";
  auto targets = "--urlpoll.targets=[{name=\"api\", url=\"" +
                 server.url("/ok") + "\"}, {name=\"legacy\", url=\"" +
                 server.url("/no-head") + "\"}, {name=\"missing\", url=\"" +
                 server.url("/code?c=404") +
                 "\", expect=[404], method=\"GET\"}]";
  // The daemon: once writes no events.
  running_urlpoll up{dir.path,
                     {targets, urls_option({server.url("/unavailable")}),
                      "--urlpoll.events=" + events,
                      "--urlpoll.history=", "--urlpoll.start-spread=0s"}};
  REQUIRE(eventually([&] { return events_in(events).size() == 4; }));
  auto doc = up.status();
  REQUIRE(doc["targets"].size() == 4);
  CHECK(doc["targets"][0]["name"] == "api");
  CHECK(doc["targets"][0]["state"] == "up");
  CHECK_FALSE(doc["targets"][0]["since"].is_null());
  CHECK(doc["targets"][1]["name"] == "legacy");
  CHECK(doc["targets"][1]["state"] == "up");
  CHECK(doc["targets"][1]["head_refused"] == true);
  CHECK(doc["targets"][1]["method"] == "GET");
  CHECK(doc["targets"][2]["state"] == "up");
  CHECK(doc["targets"][3]["name"] == server.url("/unavailable"));
  CHECK(doc["targets"][3]["state"] == "down");
  std::map<std::string, std::string> to;
  for (auto& e : events_in(events)) {
    CHECK(e["from"] == "unknown");
    to[e["target"].get<std::string>()] = e["to"].get<std::string>();
  }
  CHECK(to["api"] == "up");
  CHECK(to["missing"] == "up");
  CHECK(to[server.url("/unavailable")] == "down");
}

TEST_CASE("a reason phrase that is no UTF-8 still makes valid JSON") {
  scripted_server hostile{[](int fd, const std::atomic<bool>&) {
    send_all(fd, "HTTP/1.1 200 \xff\xfe\x01 fine\r\nContent-Length: 0\r\n\r\n");
  }};
  temp_dir dir;
  auto r =
    run_urlpoll({"--urlpoll.once", urls_option({hostile.url()})}, dir.path);
  CHECK(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["targets"][0]["status"] == "200 ??? fine");
  // The daemon: once writes no events.
  auto events = dir.path + "/events.jsonl";
  running_urlpoll up{dir.path,
                     {urls_option({hostile.url()}),
                      "--urlpoll.events=" + events,
                      "--urlpoll.history=", "--urlpoll.start-spread=0s"}};
  REQUIRE(eventually([&] { return events_in(events).size() == 1; }));
  CHECK(events_in(events)[0]["status"] == "200 ??? fine");
}

TEST_CASE("once serves no HTTP API, even where another urlpoll holds the "
          "port") {
  http_server server;
  temp_dir dir;
  auto r = run_urlpoll(
    {"--urlpoll.once",
     "--urlpoll.http-listen=127.0.0.1:" + std::to_string(server.port),
     urls_option({server.url("/ok")})},
    dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK_FALSE(contains(r.err, "HTTP API"));
}

TEST_CASE("--check-config: a good configuration prints what it holds and "
          "exits 0") {
  temp_dir dir;
  auto conf = dir.write("good.conf",
                        "[urlpoll]\nurls = [\"http://127.0.0.1:1/\"]\n"
                        "url-file = \"urls.txt\"\n"
                        "alerts = [{ url = \"http://127.0.0.1:1/hook\" }]\n");
  dir.write("urls.txt", "http://127.0.0.1:2/\nhttp://127.0.0.1:3/\n");
  auto r = run_urlpoll({"--check-config", "--config-file=" + conf}, dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "configuration OK: 3 targets, 1 alerts\n");
  auto anywhere =
    run_urlpoll({"--config-file=" + conf, "--check-config"}, dir.path);
  CHECK(anywhere.exit_code == 0);
  CHECK(anywhere.out == r.out);
}

TEST_CASE("--check-config: a bad configuration prints each error with its "
          "line and exits 2") {
  temp_dir dir;
  auto conf = dir.write("bad.conf", "[urlpoll]\nurls = [\"http://a/\"]\n"
                                    "url-file = \"urls.txt\"\n");
  dir.write("urls.txt", "http://ok/\nftp://not-polled/\n");
  auto r = run_urlpoll({"--check-config", "--config-file=" + conf}, dir.path);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_MESSAGE(contains(r.err, "urlpoll: configuration error: " + dir.path +
                                  "/urls.txt:2: 'ftp://not-polled/': "
                                  "unsupported scheme"),
                r.err);
  auto typo = dir.write("typo.conf", "[urlpoll]\npoll-intervall = 5s\n");
  auto t = run_urlpoll({"--config-file=" + typo, "--check-config"}, dir.path);
  CHECK(t.exit_code == 2);
  CHECK(contains(t.err, "urlpoll: configuration error: " + typo + ":2: "));
}

TEST_CASE("--check-config binds no port and writes no file") {
  http_server holder; // holds the port that http-listen names
  temp_dir dir;
  auto r = run_urlpoll(
    {"--check-config",
     "--urlpoll.http-listen=127.0.0.1:" + std::to_string(holder.port),
     "--urlpoll.events=events.jsonl", urls_option({holder.url("/ok")})},
    dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "configuration OK: 1 targets, 0 alerts\n");
  CHECK_FALSE(std::filesystem::exists(dir.path + "/events.jsonl"));
  CHECK(holder.requests == 0);
  auto unwritable =
    run_urlpoll({"--check-config", "--urlpoll.events=/nonexistent-dir/e.jsonl",
                 urls_option({holder.url("/ok")})},
                dir.path);
  CHECK(unwritable.exit_code == 2);
  CHECK(contains(unwritable.err, "cannot write '/nonexistent-dir/e.jsonl'"));
}

TEST_CASE("--help lists the lists, the keys of targets and alerts entries, "
          "--check-config and the exit codes") {
  temp_dir dir;
  auto r = run_urlpoll({"--help"}, dir.path);
  CHECK(r.exit_code == 0);
  for (auto option :
       {"--urlpoll.targets", "--urlpoll.alerts", "--urlpoll.expect",
        "--urlpoll.headers", "--check-config", "--config-file"})
    CHECK_MESSAGE(contains(r.out, option), option);
  for (auto key : {"interval", "follow-redirects", "body-match", "flap-window",
                   "repeat-interval", "max-attempts", "format"})
    CHECK_MESSAGE(contains(r.out, key), key);
  for (auto code : {"  0  ", "  1  ", "  2  ", "  3  "})
    CHECK_MESSAGE(contains(r.out, code), code);
}

TEST_CASE("--version prints urlpoll's version, the commit it was built "
          "from, and CAF's and libcurl's versions, and exits 0") {
  temp_dir dir;
  // Whatever else the command line holds: no configuration is read.
  auto r = run_urlpoll({"--version", "--config-file=missing.conf"}, dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.empty());
  std::ifstream changelog{URLPOLL_SOURCE_DIR "/packaging/changelog"};
  std::string top;
  REQUIRE(std::getline(changelog, top));
  auto open = top.find('(');
  auto version = top.substr(open + 1, top.find_first_of("-)", open) - open - 1);
  // The commit: git's word for the source, where it is a git checkout.
  std::string commit = "unknown";
  if (std::filesystem::exists(URLPOLL_SOURCE_DIR "/.git")) {
    child git{"/usr/bin/git",
              {"-C", URLPOLL_SOURCE_DIR, "rev-parse", "--short", "HEAD"},
              dir.path};
    auto answer = git.wait(10s);
    REQUIRE_MESSAGE(answer.exit_code == 0, "git: " << answer.err);
    commit = answer.out.substr(0, answer.out.find('\n'));
  }
  auto caf = std::to_string(CAF_VERSION / 10000) + "." +
             std::to_string(CAF_VERSION / 100 % 100) + "." +
             std::to_string(CAF_VERSION % 100);
  CHECK(r.out == "urlpoll " + version + "\ncommit " + commit + "\nCAF " + caf +
                   "\nlibcurl " + curl_version_info(CURLVERSION_NOW)->version +
                   "\n");
}

TEST_CASE("scripts/build sends all it prints to stderr, so that scripts/run "
          "> file holds urlpoll's output only") {
  std::ifstream in{URLPOLL_SOURCE_DIR "/scripts/build"};
  size_t commands = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("scripts/", 0) != 0 && line.rfind("cmake", 0) != 0)
      continue;
    ++commands;
    CHECK_MESSAGE((contains(line, ">&2") || contains(line, ">/dev/null")),
                  "stdout not redirected: " << line);
  }
  CHECK(commands == 3);
}

TEST_CASE("--help-markdown prints the README's table of per-target keys") {
  temp_dir dir;
  auto r = run_urlpoll({"--help-markdown"}, dir.path);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "| `interval` | `poll-interval` | `60s` |"));
  CHECK(contains(r.out, "| `flap-window` |"));
}
