// Distributed runs as users run them: worker processes and a coordinator
// process of the built binary on 127.0.0.1, ephemeral ports, a real HTTP
// server that can fail for chosen nodes (by the node name in urlpoll's
// User-Agent), kill -9, restarts and TLS with throw-away certificates.
#include <csignal>
#include <map>
#include <memory>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/http_server.hpp"
#include "support/pki.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"
#include "support/require_postgres.hpp"
#include "support/running_urlpoll.hpp"
#include "support/temp_dir.hpp"
#include "support/waiting.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A worker process named `name`, on `port` (0: any).
class worker_process {
public:
  worker_process(const std::string& name, const std::string& dir, int port = 0,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
      "--urlpoll.role=worker",
      "--urlpoll.listen=127.0.0.1:" + std::to_string(port),
      "--urlpoll.node-name=" + name, "--urlpoll.pollers=1"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<child>(URLPOLL_BINARY, args, dir);
    std::string needle = "listening on 127.0.0.1:";
    auto ready = proc_->wait_for(
      [&](const std::string& out, const std::string&) {
        auto at = out.find(needle);
        return at != std::string::npos &&
               out.find('\n', at) != std::string::npos;
      },
      10s);
    REQUIRE_MESSAGE(ready, "worker " << name << " did not start");
    proc_->wait_for(
      [&](const std::string& out, const std::string&) {
        this->port = std::stoi(out.substr(out.find(needle) + needle.size()));
        return true;
      },
      0ms);
  }

  ~worker_process() {
    if (proc_) {
      proc_->signal(SIGTERM);
      proc_->wait(5s);
    }
  }

  void kill() {
    proc_->signal(SIGKILL);
    proc_->wait(5s);
    proc_.reset();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  int port = 0;

private:
  std::unique_ptr<child> proc_;
};

std::string list_option(const std::string& name,
                        const std::vector<std::string>& items) {
  std::string result = "--urlpoll." + name + "=[";
  for (auto& item : items)
    result += (result.back() == '[' ? "\"" : ",\"") + item + "\"";
  return result + "]";
}

/// The last complete JSON status line in `out`, or null.
nlohmann::json last_status(const std::string& out) {
  auto end = out.rfind('\n');
  if (end == std::string::npos)
    return nullptr;
  auto begin = out.rfind('\n', end - 1);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return nlohmann::json::parse(out.substr(begin, end - begin), nullptr, false);
}

const nlohmann::json* node_named(const nlohmann::json& status,
                                 const std::string& name) {
  if (!status.is_object() || !status.contains("nodes"))
    return nullptr;
  for (auto& n : status["nodes"])
    if (n["name"] == name)
      return &n;
  return nullptr;
}

/// Polls of each target (?t=) by the server's clock: the longest gap between
/// two polls of one target, or between its last poll and `end`.
std::chrono::milliseconds
longest_gap(const std::vector<http_server::visit>& vs,
            std::chrono::steady_clock::time_point end) {
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> by;
  for (auto& v : vs)
    by[v.target].push_back(v.time);
  std::chrono::milliseconds result{0};
  auto longer = [&](auto from, auto to) {
    result = std::max(
      result, std::chrono::duration_cast<std::chrono::milliseconds>(to - from));
  };
  for (auto& [target, times] : by) {
    for (size_t i = 1; i < times.size(); ++i)
      longer(times[i - 1], times[i]);
    longer(times.back(), end);
  }
  return result;
}

std::vector<std::string> node_urls(const http_server& server, int n,
                                   const std::string& query = "") {
  std::vector<std::string> urls;
  for (int i = 0; i < n; ++i)
    urls.push_back(server.url("/node?t=" + std::to_string(i) + query));
  return urls;
}

} // namespace

TEST_CASE("spread: the workers divide the polls between them") {
  http_server server;
  temp_dir dir;
  worker_process a{"a", dir.path};
  worker_process b{"b", dir.path};
  auto r = run_urlpoll({"--urlpoll.once", "--urlpoll.role=coordinator",
                        "--urlpoll.local-pollers=false",
                        list_option("workers", {a.address(), b.address()}),
                        "--urlpoll.show-query",
                        list_option("urls", node_urls(server, 10))},
                       dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["nodes"].size() == 2);
  CHECK(doc["nodes"][0]["name"] == "a");
  CHECK(doc["nodes"][0]["connected"] == true);
  CHECK(doc["nodes"][0]["polls"] == 5);
  CHECK(doc["nodes"][1]["name"] == "b");
  CHECK(doc["nodes"][1]["polls"] == 5);
  std::map<std::string, int> by_node;
  for (auto& v : server.visits())
    ++by_node[v.node];
  CHECK(by_node["a"] == 5);
  CHECK(by_node["b"] == 5);
  for (auto& t : doc["targets"]) {
    CHECK(t["state"] == "up");
    CHECK((t["node"] == "a" || t["node"] == "b"));
  }
}

TEST_CASE("vantage: one node's failure keeps a target up, two of three make "
          "it down") {
  http_server server;
  temp_dir dir;
  worker_process a{"a", dir.path};
  worker_process b{"b", dir.path};
  worker_process c{"c", dir.path};
  auto r = run_urlpoll(
    {"--urlpoll.once", "--urlpoll.role=coordinator",
     "--urlpoll.local-pollers=false", "--urlpoll.dispatch=vantage",
     list_option("workers", {a.address(), b.address(), c.address()}),
     "--urlpoll.show-query",
     list_option("urls", {server.url("/node?t=1&fail=b"),
                          server.url("/node?t=2&fail=b,c")})},
    dir.path);
  CHECK(r.exit_code == 1); // the second target is down
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["targets"].size() == 2);
  auto& one = doc["targets"][0];
  CHECK(one["state"] == "up");
  CHECK(one["quorum"] == 2);
  REQUIRE(one["views"].size() == 3);
  CHECK(one["views"][1]["node"] == "b");
  // a and c decide it up; b's 503 is in the views unless a and c were both
  // faster, in which case b's view is still open.
  if (one["views"][1]["state"] == "down") {
    CHECK(one["views"][1]["code"] == 503);
    CHECK(one["status"] == "200 OK (down on 1 of 3 nodes: b)");
  } else {
    CHECK(one["views"][1]["status"] == "no answer yet: the others decided");
    CHECK(one["status"] == "200 OK");
  }
  auto& two = doc["targets"][1];
  CHECK(two["state"] == "down");
  CHECK(two["status"] == "503 Service Unavailable (down on 2 of 3 nodes)");
  CHECK(server.visits().size() >= 4);
}

TEST_CASE("vantage: kill -9 of one of the two nodes that see a target down "
          "keeps it down until lost-node-expiry") {
  http_server server;
  temp_dir dir;
  worker_process a{"a", dir.path};
  auto b = std::make_unique<worker_process>("b", dir.path);
  worker_process c{"c", dir.path};
  child coordinator{
    URLPOLL_BINARY,
    {"--urlpoll.role=coordinator", "--urlpoll.local-pollers=false",
     "--urlpoll.dispatch=vantage",
     list_option("workers", {a.address(), b->address(), c.address()}),
     "--urlpoll.show-query",
     list_option("urls", {server.url("/node?t=1&fail=a,b")}),
     "--urlpoll.poll-interval=300ms", "--urlpoll.retry-interval=300ms",
     "--urlpoll.start-spread=0s", "--urlpoll.lost-node-expiry=4s",
     "--urlpoll.status-format=json", "--urlpoll.status-interval=100ms"},
    dir.path};
  auto target = [](const std::string& out) {
    auto status = last_status(out);
    return status.is_object() ? status["targets"][0] : nlohmann::json{};
  };
  REQUIRE(coordinator.wait_for(
    [&](auto& out, auto&) { return target(out)["state"] == "down"; }, 15s));
  b->kill();
  size_t lost_at = 0;
  REQUIRE(coordinator.wait_for(
    [&](auto& out, auto&) {
      auto status = last_status(out);
      auto* n = node_named(status, "b");
      lost_at = out.size();
      return n != nullptr && (*n)["connected"] == false;
    },
    10s));
  // Polls go on with a and c (a sees it down, c up): b's last view stands,
  // so the target stays down, for every status printed meanwhile.
  int64_t polls_at_loss = -1;
  nlohmann::json seen;
  auto polled = coordinator.wait_for(
    [&](auto& out, auto&) {
      seen = target(out);
      if (!seen.is_object())
        return false;
      if (polls_at_loss < 0)
        polls_at_loss = seen["polls"].template get<int64_t>();
      return seen["polls"].template get<int64_t>() >= polls_at_loss + 4;
    },
    10s);
  REQUIRE_MESSAGE(polled, seen.dump());
  std::string shown;
  nlohmann::json t;
  coordinator.wait_for(
    [&](auto& out, auto&) {
      shown = out.substr(lost_at);
      t = target(out);
      return true;
    },
    0ms);
  int documents = 0;
  for (size_t at = 0, end; (end = shown.find('\n', at)) != std::string::npos;
       at = end + 1) {
    auto doc =
      nlohmann::json::parse(shown.substr(at, end - at), nullptr, false);
    if (!doc.is_object() || !doc.contains("targets"))
      continue;
    ++documents;
    CHECK_MESSAGE(doc["targets"][0]["state"] == "down",
                  doc["targets"][0].dump());
  }
  CHECK(documents >= 4);
  REQUIRE(t["views"].size() == 3);
  CHECK(t["views"][1]["node"] == "b");
  CHECK(t["views"][1]["lost"] == true);
  CHECK(t["views"][1]["state"] == "down");
  CHECK(t["views"][1]["code"] == 503);
  CHECK(t["status"] == "503 Service Unavailable (down on 2 of 3 nodes)");
  // After lost-node-expiry b no longer counts: a and c, quorum 2, decide it
  // up (a down, c up), as the rule says.
  CHECK(coordinator.wait_for(
    [&](auto& out, auto&) {
      auto t = target(out);
      return t.is_object() && t["state"] == "up" && t["views"].size() == 2;
    },
    15s));
  coordinator.signal(SIGTERM);
  CHECK(coordinator.wait(5s).exit_code == 0);
}

TEST_CASE("kill -9 of a worker: no target misses more than one interval, and "
          "the worker is used again after its restart") {
  http_server server;
  temp_dir dir;
  auto a = std::make_unique<worker_process>("a", dir.path);
  worker_process b{"b", dir.path};
  auto a_port = a->port;
  child coordinator{
    URLPOLL_BINARY,
    {"--urlpoll.role=coordinator", "--urlpoll.local-pollers=false",
     list_option("workers", {a->address(), b.address()}),
     // Answers take 300ms: a's polls are in flight when it
     // dies, and only a re-send saves them.
     "--urlpoll.show-query",
     list_option("urls", node_urls(server, 10, "&delay=300")),
     "--urlpoll.poll-interval=1s", "--urlpoll.start-spread=1s",
     "--urlpoll.status-format=json", "--urlpoll.status-interval=200ms"},
    dir.path};
  auto node_polls = [&](const std::string& out, const std::string& name) {
    auto status = last_status(out);
    auto* n = node_named(status, name);
    return n != nullptr && (*n)["connected"] == true
             ? (*n)["polls"].get<int64_t>()
             : int64_t{-1};
  };
  REQUIRE(coordinator.wait_for(
    [&](auto& out, auto&) {
      return node_polls(out, "a") >= 5 && node_polls(out, "b") >= 5;
    },
    15s));
  a->kill();
  // The coordinator sees the loss, and b carries every poll for two
  // intervals.
  int64_t b_at_loss = -1;
  REQUIRE(coordinator.wait_for(
    [&](auto& out, auto&) {
      auto status = last_status(out);
      auto* n = node_named(status, "a");
      if (n == nullptr || (*n)["connected"] != false)
        return false;
      b_at_loss = node_polls(out, "b");
      return true;
    },
    10s));
  REQUIRE(coordinator.wait_for(
    [&](auto& out, auto&) { return node_polls(out, "b") >= b_at_loss + 20; },
    10s));
  // Back on the same port: the coordinator reconnects and uses it again.
  a = std::make_unique<worker_process>("a", dir.path, a_port);
  CHECK(coordinator.wait_for(
    [&](auto& out, auto&) { return node_polls(out, "a") >= 3; }, 20s));
  auto end = std::chrono::steady_clock::now();
  coordinator.signal(SIGTERM);
  auto result = coordinator.wait(5s);
  CHECK(result.exit_code == 0);
  // One interval is 1s: a target that missed a poll would show a gap of 2s.
  auto gap = longest_gap(server.visits(), end);
  CHECK_MESSAGE(gap < 1900ms, "longest gap between polls of a target: "
                                << gap.count() << " ms");
}

TEST_CASE("a restarted coordinator simply reconnects to its workers") {
  http_server server;
  temp_dir dir;
  worker_process a{"a", dir.path};
  {
    child first{URLPOLL_BINARY,
                {"--urlpoll.role=coordinator", "--urlpoll.local-pollers=false",
                 list_option("workers", {a.address()}), "--urlpoll.show-query",
                 list_option("urls", node_urls(server, 2)),
                 "--urlpoll.poll-interval=200ms", "--urlpoll.start-spread=0s"},
                dir.path};
    REQUIRE(first.wait_for(
      [&](auto&, auto&) { return server.visits().size() >= 4; }, 10s));
    first.signal(SIGKILL);
    first.wait(5s);
  }
  auto r = run_urlpoll(
    {"--urlpoll.once", "--urlpoll.role=coordinator",
     "--urlpoll.local-pollers=false", list_option("workers", {a.address()}),
     "--urlpoll.show-query", list_option("urls", node_urls(server, 2))},
    dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["nodes"][0]["connected"] == true);
  CHECK(doc["nodes"][0]["polls"] == 2);
}

namespace {

// A throw-away CA named `ca` and certificates `names` signed by it.
void make_pki(const std::string& dir, const std::string& ca,
              const std::vector<std::string>& names) {
  make_ca(dir, ca);
  for (auto& name : names)
    make_cert(dir, ca, name);
}

std::vector<std::string> tls_options(const std::string& dir,
                                     const std::string& ca,
                                     const std::string& name) {
  return {"--openssl.certificate=" + dir + "/" + name + ".pem",
          "--openssl.key=" + dir + "/" + name + ".key",
          "--openssl.cafile=" + dir + "/" + ca + ".pem"};
}

} // namespace

TEST_CASE("with TLS, nodes with certificates of the same CA work together "
          "and any other peer is refused") {
  http_server server;
  temp_dir dir;
  make_pki(dir.path, "ca", {"worker", "coordinator"});
  make_pki(dir.path, "other-ca", {"intruder"});
  worker_process a{"a", dir.path, 0, tls_options(dir.path, "ca", "worker")};
  auto coordinate = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"--urlpoll.once",
                                  "--urlpoll.role=coordinator",
                                  "--urlpoll.local-pollers=false",
                                  list_option("workers", {a.address()}),
                                  "--urlpoll.show-query",
                                  list_option("urls", node_urls(server, 1))};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_urlpoll(args, dir.path, 30s);
  };
  auto good = coordinate(tls_options(dir.path, "ca", "coordinator"));
  CHECK_MESSAGE(good.exit_code == 0, good.err);
  auto doc = nlohmann::json::parse(good.out);
  CHECK(doc["nodes"][0]["connected"] == true);
  CHECK(doc["targets"][0]["state"] == "up");
  // Without TLS, and with a certificate from another CA: no connection, so
  // no node can poll; the target's state stays unknown.
  std::vector<std::pair<std::vector<std::string>, std::string>> refused{
    {{}, "it may require TLS"},
    {tls_options(dir.path, "other-ca", "intruder"), "ended the TLS handshake"}};
  for (auto& [extra, problem] : refused) {
    auto bad = coordinate(extra);
    CHECK(bad.exit_code == 1);
    auto doc = nlohmann::json::parse(bad.out);
    CHECK(doc["nodes"][0]["connected"] == false);
    CHECK(contains(doc["nodes"][0]["problem"].get<std::string>(), problem));
    CHECK(doc["targets"][0]["state"] == "unknown");
    CHECK(contains(doc["targets"][0]["status"].get<std::string>(),
                   "no node could poll"));
  }
  CHECK(server.visits().size() == 1);
}

TEST_CASE("a reload adds a worker to a running coordinator, and its targets "
          "keep polling through the change") {
  http_server server;
  temp_dir dir;
  worker_process a{"a", dir.path};
  worker_process b{"b", dir.path};
  auto config = [&](const std::vector<std::string>& workers) {
    std::string list;
    for (auto& w : workers)
      list += (list.empty() ? "\"" : ", \"") + w + "\"";
    std::string urls;
    for (auto& u : node_urls(server, 4))
      urls += (urls.empty() ? "\"" : ", \"") + u + "\"";
    return "[urlpoll]\nrole = \"coordinator\"\nlocal-pollers = false\n"
           "poll-interval = 200ms\nstatus-interval = 200ms\n"
           "status-format = \"json\"\nshow-query = true\nworkers = [" +
           list + "]\nurls = [" + urls + "]\n";
  };
  auto file = dir.write("coordinator.conf", config({a.address()}));
  child coordinator{URLPOLL_BINARY, {"--config-file=" + file}, dir.path};
  auto connected = [](const std::string& name) {
    return [name](const std::string& out, const std::string&) {
      auto status = last_status(out);
      auto node = node_named(status, name);
      return node != nullptr && (*node)["connected"] == true &&
             (*node)["polls"].get<int>() > 0;
    };
  };
  REQUIRE(coordinator.wait_for(connected("a"), 10s));
  dir.write("coordinator.conf", config({a.address(), b.address()}));
  coordinator.signal(SIGHUP);
  REQUIRE(coordinator.wait_for(connected("b"), 10s));
  CHECK(coordinator.wait_for(
    [](const std::string&, const std::string& err) {
      return contains(err, "configuration reload (SIGHUP) applied");
    },
    1s));
  // Every target kept its 200ms schedule through the change of dispatcher.
  coordinator.wait_for([](auto&, auto&) { return false; }, 1s);
  CHECK(longest_gap(server.visits(), std::chrono::steady_clock::now()) <
        1500ms);
  coordinator.signal(SIGTERM);
  auto r = coordinator.wait(5s);
  CHECK(r.exit_code == 0);
  auto status = last_status(r.out);
  REQUIRE(node_named(status, "a") != nullptr);
  REQUIRE(node_named(status, "b") != nullptr);
  REQUIRE(status["targets"].size() == 4);
  for (auto& t : status["targets"])
    CHECK_MESSAGE(t["state"] == "up", t.dump());
}

TEST_CASE("a coordinator pair shares its workers: after a kill -9 of the "
          "leader, the standby leads and polls through the same workers") {
  REQUIRE_POSTGRES();
  postgres_server pg;
  http_server server;
  temp_dir dir;
  worker_process a{"a", dir.path};
  worker_process b{"b", dir.path};
  auto coordinator = [&](const std::string& name) {
    return std::vector<std::string>{
      "--urlpoll.role=coordinator",
      "--urlpoll.node-name=" + name,
      "--urlpoll.local-pollers=false",
      list_option("workers", {a.address(), b.address()}),
      "--urlpoll.show-query",
      list_option("urls", node_urls(server, 4)),
      "--urlpoll.poll-interval=200ms",
      "--urlpoll.history=" + pg.uri(),
      "--urlpoll.ha-takeover=3s"};
  };
  auto one = std::make_unique<running_urlpoll>(dir.path, coordinator("hq-1"));
  REQUIRE(one->wait_until([](const nlohmann::json& x) {
    return x["counts"]["up"] == 4 && x["nodes"].size() == 2 &&
           x["nodes"][0]["connected"] == true &&
           x["nodes"][1]["connected"] == true;
  }));
  running_urlpoll two{dir.path, coordinator("hq-2")};
  REQUIRE(eventually([&] {
    auto res = two.get("/healthz");
    return res && res->status == 503 && contains(res->body, "hq-1 leads");
  }));
  // The standby's workers are connected before it leads.
  REQUIRE(two.wait_until([](const nlohmann::json& x) {
    return x["nodes"].size() == 2 && x["nodes"][0]["connected"] == true &&
           x["nodes"][1]["connected"] == true;
  }));
  one->kill();
  // From here on, every poll is the new leader's.
  auto since = server.visits().size();
  REQUIRE(eventually([&] {
    auto res = two.get("/healthz");
    return res && res->status == 200;
  }));
  REQUIRE(two.wait_until([](const nlohmann::json& x) {
    return x["nodes"].size() == 2 && x["nodes"][0]["connected"] == true &&
           x["nodes"][1]["connected"] == true && x["nodes"][0]["polls"] >= 4 &&
           x["nodes"][1]["polls"] >= 4;
  }));
  std::map<std::string, int> by_node;
  auto visits = server.visits();
  for (auto i = since; i < visits.size(); ++i)
    ++by_node[visits[i].node];
  CHECK(by_node["a"] >= 4);
  CHECK(by_node["b"] >= 4);
  CHECK(by_node.size() == 2);
  CHECK(two.status()["counts"]["up"] == 4);
}
