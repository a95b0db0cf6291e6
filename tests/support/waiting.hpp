// Bounded waits, webhook counts and events files, shared by the tests that
// run the binary.
#pragma once

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace urlpoll::test {

/// Waits (bounded) until `done` holds, looking every 100 ms.
template <class Pred>
bool eventually(Pred done,
                std::chrono::milliseconds limit = std::chrono::seconds{10}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return done();
}

/// How many of the webhook bodies `hooks` tell `event` ("down", ...).
inline int count_of(const std::vector<std::string>& hooks,
                    const std::string& event) {
  int n = 0;
  for (auto& h : hooks)
    if (nlohmann::json::parse(h)["event"] == event)
      ++n;
  return n;
}

/// The transitions in the events file at `path`, one per whole line (a line
/// being written is left for the next look); none when there is no file.
inline std::vector<nlohmann::json> events_in(const std::string& path) {
  std::ifstream file{path};
  std::stringstream text;
  text << file.rdbuf();
  std::vector<nlohmann::json> result;
  std::string line;
  while (std::getline(text, line) && !text.eof())
    result.push_back(nlohmann::json::parse(line));
  return result;
}

} // namespace urlpoll::test
