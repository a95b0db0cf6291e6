// The status page (app/status_page.html) in headless Chromium against a
// running urlpoll with 3,000 targets: the counts at the top, problems first,
// search, paging, and a target's own page with its latency chart,
// transitions and uptime figures. It reads the DOM hooks the page lists in
// its header comment.
#include <filesystem>
#include <map>
#include <regex>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/fast_http_server.hpp"
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

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos;
       at = text.find(part, at + part.size()))
    ++n;
  return n;
}

struct card {
  std::string state;
  std::string name;
  std::string flapping;
};

/// The target cards of a dumped list, in the order shown.
std::vector<card> cards_of(const std::string& dom) {
  static const std::regex re{
    R"re(<article class="target (\w+)" data-name="([^"]*)" data-flapping="(\w+)")re"};
  std::vector<card> out;
  for (std::sregex_iterator i{dom.begin(), dom.end(), re}, end; i != end; ++i)
    out.push_back({(*i)[1], (*i)[2], (*i)[3]});
  return out;
}

/// The value of `attribute` in the first element with id="`id`"; empty
/// when absent.
std::string attribute_of(const std::string& dom, const std::string& id,
                         const std::string& attribute) {
  auto at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos)
    return {};
  auto begin = dom.rfind('<', at);
  auto end = dom.find('>', at);
  auto tag = dom.substr(begin, end - begin);
  std::smatch m;
  if (std::regex_search(tag, m, std::regex{attribute + "=\"([^\"]*)\""}))
    return m[1];
  return {};
}

/// The number on the count tile of `state` ("all", "down", ...).
std::string count_tile(const std::string& dom, const std::string& state) {
  std::smatch m;
  if (std::regex_search(dom, m,
                        std::regex{"data-state=\"" + state +
                                   "\"[^>]*><b class=\"n\">([0-9]+)</b>"}))
    return m[1];
  return {};
}

/// Counts of targets by state, from a whole status document: the page's
/// top line must say the same.
std::string summary_of(const nlohmann::json& doc) {
  std::map<std::string, int> n;
  int flapping = 0;
  for (auto& t : doc["targets"]) {
    ++n[t["state"].get<std::string>()];
    flapping += t["flapping"].get<bool>() ? 1 : 0;
  }
  return std::to_string(doc["targets"].size()) +
         " targets: " + std::to_string(n["up"]) + " up, " +
         std::to_string(n["degraded"]) + " degraded, " +
         std::to_string(n["down"]) + " down, " + std::to_string(n["unknown"]) +
         " unknown; " + std::to_string(flapping) + " flapping";
}

const nlohmann::json* target_in(const nlohmann::json& doc,
                                const std::string& name) {
  for (auto& t : doc["targets"])
    if (t["name"] == name)
      return &t;
  return nullptr;
}

/// Headless Chromium, one run per page: its DOM (--dump-dom) or a
/// screenshot, each bounded.
struct browser {
  std::string profile;
  std::string cwd;

  std::vector<std::string> args(const std::string& budget) const {
    return {"--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--user-data-dir=" + profile,
            "--virtual-time-budget=" + budget};
  }

  std::string dom(const std::string& url) const {
    auto a = args("3000");
    a.push_back("--dump-dom");
    a.push_back(url);
    child run{"/usr/bin/chromium", a, cwd};
    auto done = run.wait(30s);
    REQUIRE_MESSAGE(done.exit_code == 0, "chromium: " << done.err);
    return done.out;
  }

  void screenshot(const std::string& url, const std::string& file,
                  const std::string& size) const {
    std::filesystem::remove(file);
    auto a = args("3000");
    a.push_back("--window-size=" + size);
    a.push_back("--screenshot=" + file);
    a.push_back(url);
    child run{"/usr/bin/chromium", a, cwd};
    auto done = run.wait(30s);
    CHECK_MESSAGE(done.exit_code == 0, "chromium: " << done.err);
    CHECK(std::filesystem::exists(file));
    CHECK(std::filesystem::file_size(file) > 10000);
  }
};

} // namespace

TEST_CASE("the status page in headless Chromium with 3,000 targets: counts "
          "at the top, problems first, search, paging, a target's page") {
  fast_http_server fast;
  http_server server{300ms};
  temp_dir dir;
  // Problem targets in the middle of the configuration, so that "problems
  // first" is not configuration order; 2,993 healthy ones around them.
  const int healthy = 2993;
  auto svc = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "svc-%05d", i);
    return std::string{buf};
  };
  // The history (next to the config file) written every second, so that
  // the charts have the current hour.
  std::string conf = "[urlpoll]\nstatus-interval = 1h\npoll-interval = 5s\n"
                     "start-spread = 2s\nhistory-flush = 1s\ntargets = [\n";
  auto entry = [&](const std::string& name, const std::string& url,
                   const std::string& rules) {
    conf +=
      "  { name = \"" + name + "\", url = \"" + url + "\"" + rules + " },\n";
  };
  for (int i = 0; i < healthy; ++i) {
    if (i == 1500) {
      for (auto name : {"checkout", "payments-eu", "search-api"})
        entry(name, server.url("/unavailable"), ", interval = 1s");
      for (auto name : {"images-cdn", "reports"})
        entry(name, server.url("/slow"),
              ", interval = 1s, degraded-latency = 100ms");
      for (auto name : {"login", "inventory"})
        entry(name, server.url("/switch"),
              ", interval = 200ms, retry-interval = 200ms, flap-threshold = 2, "
              "flap-window = 10min");
    }
    entry(svc(i), fast.url("/ok?t=" + std::to_string(i)), "");
  }
  conf += "]\n";
  running_urlpoll up{dir.path,
                     {"--config-file=" + dir.write("urlpoll.conf", conf)}};
  auto flappers_are = [](const char* state) {
    return [state](const nlohmann::json& x) {
      for (auto name : {"login", "inventory"}) {
        auto t = target_in(x, name);
        if (t == nullptr || (*t)["state"] != state)
          return false;
      }
      return true;
    };
  };
  // login and inventory flap: up, down, up within the flap window.
  REQUIRE(up.wait_until(flappers_are("up"), 15s));
  server.switch_code = 503;
  REQUIRE(up.wait_until(flappers_are("down")));
  server.switch_code = 200;
  // Every target polled, each in the state it should be.
  REQUIRE(up.wait_until(
    [](const nlohmann::json& x) {
      int unknown = 0, flapping = 0;
      for (auto& t : x["targets"]) {
        unknown += t["state"] == "unknown" ? 1 : 0;
        flapping += t["flapping"] == true && t["state"] == "up" ? 1 : 0;
      }
      return unknown == 0 && flapping == 2;
    },
    20s));
  auto all = up.status();
  REQUIRE(all["targets"].size() == 3000);
  auto summary = summary_of(all);
  CHECK(summary == "3000 targets: 2995 up, 2 degraded, 3 down, 0 unknown; "
                   "2 flapping");

  auto page = "http://127.0.0.1:" + std::to_string(up.port) + "/";
  browser chromium{dir.path + "/chromium", dir.path};

  // The list: the counts at the top, problems first, one page of cards.
  auto list = chromium.dom(page);
  CHECK_MESSAGE(contains(list, "<span id=\"summary\">" + summary + "</span>"),
                "no summary line '" << summary << "'");
  CHECK(count_tile(list, "all") == "3000");
  CHECK(count_tile(list, "down") == "3");
  CHECK(count_tile(list, "degraded") == "2");
  CHECK(count_tile(list, "flapping") == "2");
  CHECK(count_tile(list, "unknown") == "0");
  CHECK(count_tile(list, "up") == "2995");
  auto shown = cards_of(list);
  REQUIRE(shown.size() == 50);
  std::vector<std::string> first;
  for (size_t i = 0; i < 8; ++i)
    first.push_back(shown[i].state + " " + shown[i].name + " " +
                    shown[i].flapping);
  CHECK(first == std::vector<std::string>{
                   "down checkout false", "down payments-eu false",
                   "down search-api false", "degraded images-cdn false",
                   "degraded reports false", "up login true",
                   "up inventory true", "up svc-00000 false"});
  CHECK(attribute_of(list, "pager", "data-matched") == "3000");
  CHECK(attribute_of(list, "pager", "data-limit") == "50");
  CHECK(contains(list, "rel=\"next\""));
  CHECK(contains(list, "503 Service Unavailable"));
  // Each card has its bar of 90 days; today, checkout was down.
  CHECK(count_of(list, "<svg class=\"days\" data-days=\"90\"") == 50);
  auto bar = list.find("<svg class=\"days\"");
  auto today = list.rfind("<rect ", list.find("</svg>", bar));
  auto red = bar != std::string::npos && today != std::string::npos &&
             today > bar &&
             contains(list.substr(today, list.find('>', today) - today),
                      "class=\"bad\"");
  CHECK_MESSAGE(red, "today's bar of checkout is not red");
  // What one refresh of this view moved over the wire.
  auto moved = attribute_of(list, "bytes", "data-bytes");
  REQUIRE_FALSE(moved.empty());
  auto said = list.find(">", list.find("id=\"bytes\""));
  MESSAGE("one refresh of the list at 3,000 targets: "
          << moved << " bytes; the page says: "
          << list.substr(said + 1, list.find('<', said) - said - 1));
  CHECK(std::stol(moved) > 0);
  CHECK(std::stol(moved) < 1'000'000);
  CHECK(contains(list, "id=\"error\" class=\"banner\" role=\"alert\" hidden"));

  // Search (case-insensitive) and paging: page 2 of the 1,000 names with
  // "svc-01" in them.
  auto found = chromium.dom(page + "#q=SVC-01&page=2");
  auto hits = cards_of(found);
  REQUIRE(hits.size() == 50);
  for (auto& c : hits)
    CHECK_MESSAGE(contains(c.name, "svc-01"), c.name);
  CHECK(hits.front().name == "svc-01050");
  CHECK(attribute_of(found, "pager", "data-matched") == "1000");
  CHECK(attribute_of(found, "pager", "data-offset") == "50");
  // The counts stay those of all targets.
  CHECK(contains(found, "<span id=\"summary\">" + summary + "</span>"));

  // A filter by state: only the down ones.
  auto down = chromium.dom(page + "#state=down");
  auto downs = cards_of(down);
  REQUIRE(downs.size() == 3);
  for (auto& c : downs)
    CHECK(c.state == "down");

  // A target's own page: its state, uptime figures, latency chart and
  // transitions (unknown -> up -> down -> up). The chart needs the hour's
  // figures in the history first.
  CHECK(up.wait_until(
    [&](const nlohmann::json&) {
      auto res = up.get("/api/v1/targets/login/history");
      if (!res || res->status != 200)
        return false;
      auto points = nlohmann::json::parse(res->body)["points"];
      return !points.empty() && !points.back()["latency_ms"].is_null();
    },
    10s));
  auto one = chromium.dom(page + "#target=login");
  CHECK(contains(one, "class=\"target-page up\" data-name=\"login\""));
  for (std::string window : {"1h", "24h", "7d", "30d"})
    CHECK_MESSAGE(contains(one, "data-window=\"" + window + "\""), window);
  CHECK(contains(one, "<svg class=\"chart latency\""));
  CHECK(contains(one, "class=\"line p50\" d=\"M"));
  CHECK(contains(one, "<svg class=\"chart uptime\""));
  CHECK(contains(one, "id=\"transitions\""));
  CHECK(count_of(one, "<tr class=\"transition down\"") >= 1);
  CHECK(count_of(one, "<tr class=\"transition up\"") >= 2);
  CHECK(contains(one, "/api/v1/targets/login/uptime/24h/badge.svg"));
  // An unknown target says so.
  auto nobody = chromium.dom(page + "#target=nobody");
  CHECK(contains(nobody, "no such target: HTTP 404"));

  // Screenshots, kept as test artifacts (docs/status-page.png is a copy of
  // the list's, taken by hand: a test never writes into the sources).
  std::filesystem::create_directories(URLPOLL_ARTIFACT_DIR);
  auto shot = std::string{URLPOLL_ARTIFACT_DIR} + "/status-page.png";
  chromium.screenshot(page, shot, "1280,900");
  chromium.screenshot(
    page + "#target=login",
    std::string{URLPOLL_ARTIFACT_DIR} + "/status-page-target.png", "1280,1400");
  CHECK(std::filesystem::exists(shot));
}
