// Outputs that do not grow into one tree of every target: the text log's
// summary and problems, the JSON status and /api/v1/status written a slice at
// a time, and /metrics with and without per-target series. A real urlpoll
// watches 1,200 targets of a real HTTP server on 127.0.0.1: more than two
// slices of stream_page_size.
#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/state_monitor.hpp"
#include "support/http_server.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

constexpr size_t target_count = 1200;
constexpr size_t down_count = 12;

static_assert(target_count > 2 * stream_page_size,
              "the documents must take more than two slices");

// 1,200 targets; every 100th (0, 100, ...) answers 503.
std::string url_file(const temp_dir& dir, const http_server& server) {
  std::string urls;
  for (size_t i = 0; i < target_count; ++i)
    urls += server.url((i % 100 == 0 ? "/unavailable?t=" : "/ok?t=") +
                       std::to_string(i)) +
            "\n";
  return dir.write("urls.txt", urls);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1))
    ++n;
  return n;
}

struct many_targets {
  http_server server;
  temp_dir dir;
  std::unique_ptr<running_urlpoll> up;

  void start(std::vector<std::string> args) {
    args.push_back("--urlpoll.urls=[]");
    args.push_back("--urlpoll.url-file=" + url_file(dir, server));
    args.push_back("--urlpoll.poll-interval=1h");
    // ?t= tells the targets apart, and is no secret.
    args.push_back("--urlpoll.show-query");
    args.push_back("--urlpoll.start-spread=1s");
    // The test server serves 32 connections at once.
    args.push_back("--urlpoll.pollers=2");
    args.push_back("--urlpoll.max-in-flight=8");
    up = std::make_unique<running_urlpoll>(dir.path, std::move(args));
    // Every target polled: the counts say so, without a document of all.
    auto polled = false;
    nlohmann::json counts;
    for (int i = 0; i < 100 && !polled; ++i) {
      auto res = up->get("/api/v1/status?limit=0");
      REQUIRE(res);
      counts = nlohmann::json::parse(res->body)["counts"];
      polled = counts["up"] == target_count - down_count &&
               counts["down"] == down_count;
      if (!polled)
        up->wait_for_output([](auto&, auto&) { return false; }, 100ms);
    }
    REQUIRE_MESSAGE(
      polled, "not every target was polled within 10 s: " << counts.dump());
  }
};

} // namespace

TEST_CASE_FIXTURE(many_targets,
                  "the text log is a summary line and the targets that are "
                  "not up, down first, cut at status-max-lines") {
  start({"--urlpoll.status-interval=200ms", "--urlpoll.status-max-lines=5"});
  std::string log;
  auto said = up->wait_for_output(
    [&](const std::string& out, const std::string&) {
      // A whole status after every target was polled.
      auto at = out.rfind("1200 targets: 1188 up, 0 degraded, 12 down");
      if (at == std::string::npos || !contains(out.substr(at), "more not up"))
        return false;
      log = out.substr(at);
      log = log.substr(0, log.find("more not up") + 11);
      return true;
    },
    10s);
  REQUIRE_MESSAGE(said, "no status line with every target polled");
  CHECK(count_of(log, "\n  down ") == 5);
  CHECK_FALSE(contains(log, "\n  up "));
  CHECK(contains(log, "/unavailable?t=0 "));
  CHECK(contains(log, "/unavailable?t=400 "));
  CHECK_FALSE_MESSAGE(contains(log, "/unavailable?t=500 "),
                      "the sixth down target is past the cut-off");
  CHECK(contains(log, "and 7 more not up"));
}

TEST_CASE_FIXTURE(many_targets,
                  "the JSON status and /api/v1/status hold every target, "
                  "written a slice at a time, and a small page is one answer") {
  start({"--urlpoll.status-interval=300ms", "--urlpoll.status-format=json"});
  auto res = up->get("/api/v1/status");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Transfer-Encoding") == "chunked");
  auto doc = nlohmann::json::parse(res->body);
  CHECK(doc["counts"]["targets"] == target_count);
  CHECK(doc["page"]["matched"] == target_count);
  REQUIRE(doc["targets"].size() == target_count);
  for (size_t i = 0; i < target_count; i += 97)
    CHECK(doc["targets"][i]["url"] ==
          server.url((i % 100 == 0 ? "/unavailable?t=" : "/ok?t=") +
                     std::to_string(i)));
  CHECK(doc["targets"][1100]["state"] == "down");
  // One page of problems: one answer, with its length.
  auto page = up->get("/api/v1/status?limit=100&order=problems");
  REQUIRE(page);
  CHECK(page->get_header_value("Transfer-Encoding").empty());
  auto problems = nlohmann::json::parse(page->body);
  REQUIRE(problems["targets"].size() == 100);
  CHECK(problems["targets"][11]["state"] == "down");
  CHECK(problems["targets"][12]["state"] == "up");
  // A big page past an offset: streamed, and only that page.
  auto tail = up->get("/api/v1/status?offset=1150&limit=5000");
  REQUIRE(tail);
  auto rest = nlohmann::json::parse(tail->body);
  REQUIRE(rest["targets"].size() == 50);
  CHECK(rest["targets"][0]["url"] == server.url("/ok?t=1150"));
  // The periodic JSON status: one line, every target.
  nlohmann::json line;
  auto said = up->wait_for_output(
    [&](const std::string& out, const std::string&) {
      for (size_t end = out.rfind('\n'); end != std::string::npos && end > 0;
           end = out.rfind('\n', end - 1)) {
        auto begin = out.rfind('\n', end - 1);
        begin = begin == std::string::npos ? 0 : begin + 1;
        auto text = out.substr(begin, end - begin);
        if (!contains(text, "\"down\":12"))
          continue;
        line = nlohmann::json::parse(text);
        return true;
      }
      return false;
    },
    10s);
  REQUIRE_MESSAGE(said, "no JSON status line with every target polled");
  CHECK(line["targets"].size() == target_count);
  CHECK(line["targets"][0]["state"] == "down");
}

TEST_CASE_FIXTURE(many_targets,
                  "metrics-per-target=false gives the aggregates, never a "
                  "series per target") {
  start({"--urlpoll.metrics-per-target=false"});
  auto res = up->get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK_FALSE(contains(res->body, "target="));
  CHECK(contains(res->body, "urlpoll_targets{state=\"up\"} 1188\n"));
  CHECK(contains(res->body, "urlpoll_targets{state=\"down\"} 12\n"));
  CHECK(contains(res->body, "urlpoll_poll_lateness_seconds_count 1200\n"));
  CHECK(count_of(res->body, "\n") < 100);
}

TEST_CASE_FIXTURE(many_targets,
                  "/metrics per target has every target's series, each "
                  "family's lines together") {
  start({});
  auto res = up->get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(count_of(res->body, "\nurlpoll_up{") == target_count);
  CHECK(count_of(res->body, "\nurlpoll_polls_total{") == target_count);
  CHECK(count_of(res->body, "# TYPE urlpoll_up ") == 1);
  CHECK(contains(res->body, "urlpoll_targets{state=\"down\"} 12\n"));
  // The family's lines are one block: no other metric among them.
  auto first = res->body.find("\nurlpoll_up{");
  auto last = res->body.rfind("\nurlpoll_up{");
  CHECK(count_of(res->body.substr(first, last - first), "\nurlpoll_state{") ==
        0);
}
