// The HTTP API, /metrics, alerts and the status page of a running urlpoll,
// over real HTTP on 127.0.0.1, checked with promtool and headless Chromium.
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> keys_of(const nlohmann::json& x) {
  std::vector<std::string> out;
  for (auto& [key, value] : x.items())
    out.push_back(key);
  return out;
}

} // namespace

TEST_CASE("the HTTP API: status, one target with its transitions, healthz, "
          "the page, and the same document as once prints") {
  http_server server;
  temp_dir dir;
  auto targets = "--urlpoll.targets=[{name=\"api\", url=\"" +
                 server.url("/ok") + "\"}, {name=\"broken\", url=\"" +
                 server.url("/unavailable") + "\"}]";
  running_urlpoll up{dir.path, {targets, "--urlpoll.poll-interval=500ms"}};
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["polls"] >= 1 && x["targets"][1]["polls"] >= 1;
  }));
  auto doc = up.status();
  auto once = nlohmann::json::parse(
    run_urlpoll({"--urlpoll.once", targets}, dir.path).out);
  CHECK(keys_of(doc) == keys_of(once));
  CHECK(keys_of(doc["targets"][0]) == keys_of(once["targets"][0]));
  CHECK(doc["targets"][1]["state"] == "down");
  auto one = up.get("/api/v1/targets/broken");
  REQUIRE(one);
  CHECK(one->status == 200);
  auto detail = nlohmann::json::parse(one->body);
  CHECK(detail["target"]["name"] == "broken");
  REQUIRE(detail["transitions"].size() == 1);
  CHECK(detail["transitions"][0]["from"] == "unknown");
  CHECK(detail["transitions"][0]["to"] == "down");
  auto missing = up.get("/api/v1/targets/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto health = up.get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto page = up.get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(contains(page->get_header_value("Content-Type"), "text/html"));
  CHECK(contains(page->body, "/api/v1/status"));
  CHECK_FALSE(contains(page->body, "http://"));
  CHECK_FALSE(contains(page->body, "https://"));
}

TEST_CASE("/metrics passes promtool check metrics and has every metric") {
  http_server server;
  temp_dir dir;
  running_urlpoll up{dir.path,
                     {"--urlpoll.urls=[\"" + server.url("/ok") + "\"]",
                      "--urlpoll.poll-interval=500ms"}};
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["polls"] >= 1; }));
  auto res = up.get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(contains(res->get_header_value("Content-Type"), "version=0.0.4"));
  for (auto name :
       {"urlpoll_up{", "urlpoll_state{", "urlpoll_probe_duration_seconds{",
        "urlpoll_http_status_code{", "urlpoll_polls_total{",
        "urlpoll_failures_total{", "urlpoll_state_changes_total{",
        "urlpoll_poll_lateness_seconds_bucket{", "urlpoll_nodes_connected ",
        "urlpoll_build_info{", "# TYPE urlpoll_cert_expiry_timestamp_seconds"})
    CHECK_MESSAGE(contains(res->body, name), name);
  auto file = dir.write("metrics.txt", res->body);
  temp_dir out;
  child promtool{
    "/bin/sh", {"-c", "promtool check metrics < " + file + " 2>&1"}, out.path};
  auto checked = promtool.wait(20s);
  CHECK_MESSAGE(checked.exit_code == 0, checked.out);
  CHECK_MESSAGE(checked.out.empty(),
                "promtool found problems: " << checked.out);
}

TEST_CASE("with http-token every endpoint but /healthz wants the token, and "
          "no secret appears in any answer") {
  http_server server;
  temp_dir dir;
  std::string token = "t0ken-s3cret";
  auto url =
    "http://admin:hunter2@127.0.0.1:" + std::to_string(server.port) + "/ok";
  running_urlpoll up{
    dir.path,
    {"--urlpoll.targets=[{name=\"api\", url=\"" + url +
       "\", headers={Authorization=\"Bearer header-secret\"}}]",
     "--urlpoll.http-token=" + token, "--urlpoll.poll-interval=500ms"}};
  // The page itself holds no data: it loads without the token and asks
  // for it (#token=) to read the API.
  auto page = up.get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  for (auto path : {"/api/v1/status", "/api/v1/targets/api", "/metrics",
                    "/api/v1/targets/api/history",
                    "/api/v1/targets/api/uptime/24h/badge.svg"}) {
    auto denied = up.get(path);
    REQUIRE(denied);
    CHECK_MESSAGE(denied->status == 401, path);
    CHECK(denied->get_header_value("WWW-Authenticate") ==
          "Bearer realm=\"urlpoll\"");
    auto wrong = up.get(path, "guess");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
  }
  auto health = up.get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  // The scheme is case-insensitive (RFC 7235), the token is not.
  httplib::Client client{"127.0.0.1", up.port};
  auto lower = client.Get("/metrics", {{"Authorization", "bearer " + token}});
  REQUIRE(lower);
  CHECK(lower->status == 200);
  auto upper =
    client.Get("/metrics", {{"Authorization", "Bearer T0KEN-S3CRET"}});
  REQUIRE(upper);
  CHECK(upper->status == 401);
  // A reload wants the token too.
  auto reload = client.Post("/-/reload", httplib::Headers{}, std::string{}, "");
  REQUIRE(reload);
  CHECK(reload->status == 401);
  up.token = token;
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["polls"] >= 1; }));
  for (auto path : {"/", "/api/v1/status", "/api/v1/targets/api", "/metrics",
                    "/healthz", "/nothing"}) {
    auto res = up.get(path, token);
    REQUIRE(res);
    if (std::string{path} != "/nothing")
      CHECK_MESSAGE(res->status == 200, path);
    for (auto secret : {"hunter2", "header-secret", token.c_str()})
      CHECK_MESSAGE(!contains(res->body, secret), path << " shows " << secret);
  }
  CHECK(up.status()["targets"][0]["url"] ==
        "http://admin:***@127.0.0.1:" + std::to_string(server.port) + "/ok");
}

namespace {

std::vector<std::string> events_of(const std::vector<std::string>& hooks) {
  std::vector<std::string> out;
  for (auto& body : hooks)
    out.push_back(nlohmann::json::parse(body)["event"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("a webhook gets down, reminders and resolved in order, and the "
          "alerter retries when the webhook fails") {
  http_server server;
  temp_dir dir;
  server.fail_hooks(2);
  running_urlpoll up{
    dir.path,
    {"--urlpoll.targets=[{name=\"flaky\", url=\"" + server.url("/switch") +
       "\", interval=200ms, retry-interval=200ms}]",
     "--urlpoll.alerts=[{name=\"ops\", type=\"webhook\", url=\"" +
       server.url("/hook") + "\", repeat-interval=1s}]"}};
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["state"] == "up"; }));
  server.switch_code = 503;
  // Two failed deliveries (1s and 2s apart), then the down alert and the
  // reminders that piled up meanwhile.
  REQUIRE(up.wait_until(
    [&](const nlohmann::json&) { return server.hooks().size() >= 2; }, 15s));
  server.switch_code = 200;
  REQUIRE(up.wait_until(
    [&](const nlohmann::json&) {
      auto events = events_of(server.hooks());
      return !events.empty() && events.back() == "resolved";
    },
    10s));
  auto events = events_of(server.hooks());
  REQUIRE(events.size() >= 3);
  CHECK(events.front() == "down");
  for (size_t i = 1; i + 1 < events.size(); ++i)
    CHECK(events[i] == "reminder");
  CHECK(events.back() == "resolved");
  auto first = nlohmann::json::parse(server.hooks().front());
  CHECK(first["alert"] == "ops");
  CHECK(first["target"] == "flaky");
  CHECK(first["to"] == "down");
  CHECK(first["code"] == 503);
  auto metrics = up.get("/metrics");
  REQUIRE(metrics);
  CHECK(contains(metrics->body,
                 "urlpoll_alert_deliveries_total{alerter=\"ops\","
                 "result=\"failed\"} 2"));
}

TEST_CASE("the status page in headless Chromium shows a target that went "
          "down, in colour and words") {
  http_server server;
  temp_dir dir;
  running_urlpoll up{dir.path,
                     {"--urlpoll.targets=[{name=\"checkout\", url=\"" +
                      server.url("/switch") +
                      "\", interval=200ms}, {name=\"catalog\", url=\"" +
                      server.url("/ok") + "\", interval=200ms}]"}};
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) { return x["targets"][0]["state"] == "up"; }));
  server.switch_code = 503;
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["state"] == "down";
  }));
  auto page = "http://127.0.0.1:" + std::to_string(up.port) + "/";
  std::vector<std::string> browser{"--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--user-data-dir=" + dir.path + "/chromium",
                                   "--virtual-time-budget=5000"};
  auto dom_args = browser;
  dom_args.push_back("--dump-dom");
  dom_args.push_back(page);
  child dump{"/usr/bin/chromium", dom_args, dir.path};
  auto dom = dump.wait(60s);
  REQUIRE_MESSAGE(dom.exit_code == 0, dom.err);
  CHECK(contains(dom.out, "2 targets: 1 up, 0 degraded, 1 down, 0 unknown"));
  CHECK(contains(dom.out, "class=\"target down\" data-name=\"checkout\""));
  CHECK(contains(dom.out, "503 Service Unavailable"));
  CHECK(contains(dom.out, "class=\"target up\" data-name=\"catalog\""));
  // The screenshot, kept as a test artifact next to the test binary.
  std::filesystem::create_directories(URLPOLL_ARTIFACT_DIR);
  auto shot =
    std::string{URLPOLL_ARTIFACT_DIR} + "/status-page-two-targets.png";
  std::filesystem::remove(shot);
  auto shot_args = browser;
  shot_args.push_back("--window-size=1200,700");
  shot_args.push_back("--screenshot=" + shot);
  shot_args.push_back(page);
  child screenshot{"/usr/bin/chromium", shot_args, dir.path};
  auto taken = screenshot.wait(60s);
  CHECK_MESSAGE(taken.exit_code == 0, taken.err);
  CHECK(std::filesystem::exists(shot));
  CHECK(std::filesystem::file_size(shot) > 10000);
}

TEST_CASE("a flapping target alerts nothing until it settles") {
  http_server server;
  temp_dir dir;
  running_urlpoll up{
    dir.path,
    // flap-threshold=1: its first real change (up to down) makes it flap
    // (the first result, out of unknown, is no change).
    {"--urlpoll.targets=[{name=\"flappy\", url=\"" + server.url("/switch") +
       "\", interval=100ms, retry-interval=100ms, flap-threshold=1, "
       "flap-window=2s}]",
     "--urlpoll.alerts=[{name=\"ops\", url=\"" + server.url("/hook") +
       "\", repeat-interval=0s}]"}};
  auto state_is = [](const char* s) {
    return [s](const nlohmann::json& x) {
      return x["targets"][0]["state"] == s;
    };
  };
  REQUIRE(up.wait_until(state_is("up")));
  server.switch_code = 503;
  REQUIRE(up.wait_until(state_is("down")));
  CHECK(up.status()["targets"][0]["flapping"] == true);
  server.switch_code = 200;
  REQUIRE(up.wait_until(state_is("up")));
  auto changed = std::chrono::steady_clock::now();
  // Settled: no change within the flap window.
  REQUIRE(up.wait_until([](const nlohmann::json& x) {
    return x["targets"][0]["flapping"] == false;
  }));
  CHECK_MESSAGE(server.hooks().empty(),
                "alerted while flapping: " << server.hooks().front());
  // Once its last change is out of the window, a failure alerts again.
  REQUIRE(up.wait_until([&](const nlohmann::json&) {
    return std::chrono::steady_clock::now() - changed > 2500ms;
  }));
  server.switch_code = 503;
  REQUIRE(up.wait_until(
    [&](const nlohmann::json&) { return !server.hooks().empty(); }));
  CHECK(events_of(server.hooks()) == std::vector<std::string>{"down"});
}

TEST_CASE("a second urlpoll on the same http-listen exits 3 instead of "
          "sharing the port") {
  http_server server;
  temp_dir dir;
  temp_dir other;
  std::vector<std::string> args{"--urlpoll.urls=[\"" + server.url("/ok") +
                                "\"]"};
  running_urlpoll first{dir.path, args};
  auto second = args;
  second.push_back("--urlpoll.http-listen=127.0.0.1:" +
                   std::to_string(first.port));
  auto r = run_urlpoll(second, other.path);
  CHECK(r.exit_code == 3);
  CHECK(contains(r.err,
                 "cannot listen on 127.0.0.1:" + std::to_string(first.port)));
  CHECK(contains(r.err, "is another process using the port?"));
  // The first one still answers, alone.
  CHECK(first.status()["targets"].size() == 1);
}

TEST_CASE("a webhook that fails is named by scheme, host and port: its "
          "secret path appears nowhere") {
  http_server server;
  temp_dir dir;
  // A path the test server does not know: every delivery fails (404).
  auto hook = server.url("/services/T000/B000/XXXXs3cret");
  running_urlpoll up{dir.path,
                     {"--urlpoll.targets=[{name=\"api\", url=\"" +
                        server.url("/unavailable") + "\", interval=200ms}]",
                      "--urlpoll.alerts=[{name=\"chat\", url=\"" + hook +
                        "\", max-attempts=2}]"}};
  std::string said;
  REQUIRE(up.wait_for_output(
    [&](const std::string&, const std::string& err) {
      said = err;
      return contains(err, "gave up on the down alert");
    },
    15s));
  CHECK(contains(said, "delivery to http://127.0.0.1:" +
                         std::to_string(server.port) + " failed"));
  CHECK_FALSE(contains(said, "XXXXs3cret"));
  auto status = up.get("/api/v1/status")->body;
  CHECK_FALSE(contains(status, "XXXXs3cret"));
  CHECK_FALSE(contains(up.get("/metrics")->body, "XXXXs3cret"));
}

namespace {

// `x` as one segment of a URL's path.
std::string path_segment(const std::string& x) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : x)
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
      out += static_cast<char>(c);
    else
      out += {'%', digits[c >> 4], digits[c & 15]};
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

} // namespace

TEST_CASE("a URL's query values appear in no output: stderr, stdout, events, "
          "the API, the page, /metrics and alerts, but show-query shows "
          "them") {
  http_server server;
  temp_dir dir;
  auto events = dir.path + "/events.jsonl";
  // The webhook's URL from a file, a token in its query.
  auto hook = dir.write("hook", server.url("/hook?token=H00KSECRET") + "\n");
  auto down = server.url("/unavailable?apikey=SECRET123&x=1");
  running_urlpoll up{
    dir.path,
    {"--urlpoll.urls=[\"" + server.url("/ok?apikey=SECRET123") + "\", \"" +
       down + "\"]",
     "--urlpoll.targets=[{url=\"" + server.url("/ok?apikey=SHOWN456") +
       "\", show-query=true}]",
     "--urlpoll.poll-interval=200ms", "--urlpoll.status-interval=200ms",
     "--urlpoll.events=" + events,
     "--urlpoll.alerts=[{name=\"ops\", url-file=\"" + hook + "\"}]"}};
  auto shown_down = server.url("/unavailable?apikey=***&x=***");
  REQUIRE(up.wait_for_output(
    [&](const std::string& out, const std::string& err) {
      return !server.hooks().empty() && contains(err, "/unavailable?apikey=") &&
             contains(out, "/unavailable?apikey=");
    },
    15s));
  auto status = up.get("/api/v1/status");
  REQUIRE(status);
  auto doc = nlohmann::json::parse(status->body);
  REQUIRE(doc["targets"].size() == 3);
  CHECK(doc["targets"][0]["url"] == server.url("/ok?apikey=SHOWN456"));
  CHECK(doc["targets"][0]["name"] == server.url("/ok?apikey=SHOWN456"));
  CHECK(doc["targets"][1]["url"] == server.url("/ok?apikey=***"));
  CHECK(doc["targets"][2]["name"] == shown_down);
  auto detail = up.get("/api/v1/targets/" + path_segment(shown_down));
  REQUIRE(detail);
  CHECK(detail->status == 200);
  auto metrics = up.get("/metrics");
  REQUIRE(metrics);
  CHECK(contains(metrics->body, "SHOWN456"));
  auto hooks = server.hooks();
  CHECK(nlohmann::json::parse(hooks.front())["target"] == shown_down);
  std::map<std::string, std::string> outputs{
    {"the status", status->body},
    {"the target's detail", detail->body},
    {"its history",
     up.get("/api/v1/targets/" + path_segment(shown_down) + "/history")->body},
    {"/metrics", metrics->body},
    {"the page", up.get("/")->body},
    {"the events", read_all(events)},
  };
  for (auto& body : hooks)
    outputs.emplace("an alert " + std::to_string(outputs.size()), body);
  auto ended = up.stop(10s);
  CHECK(ended.exit_code == 0);
  outputs.emplace("stdout", ended.out);
  outputs.emplace("stderr", ended.err);
  CHECK(contains(ended.err, shown_down));
  for (auto& [what, text] : outputs) {
    CHECK_MESSAGE(!contains(text, "SECRET123"), what << " shows it: " << text);
    CHECK_MESSAGE(!contains(text, "H00KSECRET"), what << " shows it");
  }
}

TEST_CASE("http-token-file: the API wants the token the file holds") {
  http_server server;
  temp_dir dir;
  auto file = dir.write("token", "t0ken-in-a-file\n");
  running_urlpoll up{dir.path,
                     {"--urlpoll.urls=[\"" + server.url("/ok") + "\"]",
                      "--urlpoll.http-token-file=" + file}};
  auto denied = up.get("/api/v1/status");
  REQUIRE(denied);
  CHECK(denied->status == 401);
  auto wrong = up.get("/api/v1/status", "t0ken-in-a-fil");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  auto allowed = up.get("/api/v1/status", "t0ken-in-a-file");
  REQUIRE(allowed);
  CHECK(allowed->status == 200);
}
