// A urlpoll process with its HTTP API on a free port, for tests that talk
// to it over HTTP and by signal.
#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace urlpoll::test {

/// The target named `name` in a status document; null when absent.
inline nlohmann::json target(const nlohmann::json& status,
                             const std::string& name) {
  for (auto& t : status["targets"])
    if (t["name"] == name)
      return t;
  return nullptr;
}

/// A running urlpoll with its HTTP API on a free port.
class running_urlpoll {
public:
  running_urlpoll(const std::string& dir, std::vector<std::string> args,
                  const std::string& program = URLPOLL_BINARY) {
    args.push_back("--urlpoll.http-listen=127.0.0.1:0");
    proc_ = std::make_unique<child>(program, args, dir);
    const std::string needle = "status page on http://127.0.0.1:";
    std::string said;
    auto started = proc_->wait_for(
      [&](const std::string&, const std::string& err) {
        said = err;
        auto at = err.find(needle);
        if (at == std::string::npos)
          return false;
        port = std::stoi(err.substr(at + needle.size()));
        return true;
      },
      std::chrono::seconds{10});
    if (!started) {
      // How it ended: 128 + N after signal N, -1 when it still ran.
      auto ended = proc_->wait(std::chrono::milliseconds{100});
      stopped_ = true;
      FAIL("urlpoll did not start its HTTP API; it said: '"
           << said << "', exit code " << ended.exit_code);
    }
  }

  ~running_urlpoll() {
    if (stopped_)
      return;
    proc_->signal(SIGTERM);
    proc_->wait(std::chrono::seconds{5});
  }

  /// Sends the process signal `sig`.
  void signal(int sig) { proc_->signal(sig); }

  /// The process id.
  pid_t pid() const { return proc_->pid(); }

  /// Kills it with SIGKILL, as a crash would end it.
  process_result kill() {
    stopped_ = true;
    proc_->signal(SIGKILL);
    return proc_->wait(std::chrono::seconds{5});
  }

  /// POSTs to `path` with no body, as `curl -X POST` does.
  httplib::Result post(const std::string& path) {
    httplib::Client client{"127.0.0.1", port};
    client.set_read_timeout(30, 0);
    httplib::Headers headers;
    if (!token.empty())
      headers.emplace("Authorization", "Bearer " + token);
    return client.Post(path.c_str(), headers, std::string{}, "");
  }

  /// Reads its output until `done(out, err)` holds or `limit` passes.
  bool wait_for_output(
    const std::function<bool(const std::string&, const std::string&)>& done,
    std::chrono::milliseconds limit) {
    return proc_->wait_for(done, limit);
  }

  /// Waits up to `limit` for the exit, then kills it.
  process_result stop(std::chrono::milliseconds limit) {
    stopped_ = true;
    proc_->signal(SIGTERM);
    return proc_->wait(limit);
  }

  httplib::Result get(const std::string& path, const std::string& token = {}) {
    httplib::Client client{"127.0.0.1", port};
    client.set_read_timeout(5, 0);
    httplib::Headers headers;
    if (!token.empty())
      headers.emplace("Authorization", "Bearer " + token);
    return client.Get(path.c_str(), headers);
  }

  nlohmann::json status() {
    auto res = get("/api/v1/status", token);
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return nlohmann::json::parse(res->body);
  }

  /// Waits (bounded) until the status satisfies `done`.
  template <class Pred>
  bool wait_until(Pred done,
                  std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(status()))
        return true;
      proc_->wait_for([](auto&, auto&) { return false; },
                      std::chrono::milliseconds{100});
    }
    return false;
  }

  int port = 0;
  /// Sent by status() and wait_until().
  std::string token;

private:
  std::unique_ptr<child> proc_;
  bool stopped_ = false;
};

} // namespace urlpoll::test
