#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/alerter.hpp"

using namespace urlpoll;

namespace {

alert down_alert() {
  alert a;
  a.event = "down";
  a.cause.time = caf::timestamp{} + std::chrono::seconds{1'795'000'000};
  a.cause.target = "api";
  a.cause.from = target_state::up;
  a.cause.to = target_state::down;
  a.cause.status = "503 Service Unavailable";
  a.cause.code = 503;
  a.cause.views = {node_view{"probe-a", target_state::down, 503, "503", {}}};
  a.since = a.cause.time;
  return a;
}

} // namespace

TEST_CASE("an alert is urlpoll's JSON document, with each node's view") {
  alert_rule rule;
  rule.name = "ops";
  auto doc = nlohmann::json::parse(alert_body(rule, down_alert()));
  CHECK(doc["alert"] == "ops");
  CHECK(doc["event"] == "down");
  CHECK(doc["target"] == "api");
  CHECK(doc["from"] == "up");
  CHECK(doc["to"] == "down");
  CHECK(doc["time"] == "2026-11-18T11:06:40Z");
  CHECK(doc["code"] == 503);
  REQUIRE(doc["views"].size() == 1);
  CHECK(doc["views"][0]["node"] == "probe-a");
  // One vocabulary with the snapshot: no answer is null, not 0 or "".
  CHECK(doc["views"][0]["latency_ms"] == 0.0);
  auto lost = down_alert();
  lost.cause.code = 0;
  lost.cause.views = {
    node_view{"probe-b", target_state::unknown, 0, "lost (gone)", {}}};
  auto none = nlohmann::json::parse(alert_body(rule, lost));
  CHECK(none["code"].is_null());
  CHECK(none["node"].is_null());
  CHECK(none["views"][0]["code"].is_null());
  CHECK(none["views"][0]["latency_ms"].is_null());
}

TEST_CASE("format = slack makes a Slack-compatible text message") {
  alert_rule rule;
  rule.slack = true;
  auto doc = nlohmann::json::parse(alert_body(rule, down_alert()));
  CHECK(doc.size() == 1);
  CHECK(doc["text"] == ":red_circle: *api* is down: 503 Service Unavailable");
  auto resolved = down_alert();
  resolved.event = "resolved";
  resolved.cause.to = target_state::up;
  resolved.cause.status = "200 OK";
  CHECK(nlohmann::json::parse(alert_body(rule, resolved))["text"] ==
        ":large_green_circle: *api* is up: 200 OK (resolved)");
}
