// A minimal HTTP/1.1 server on one epoll thread, for tests that poll
// thousands of targets at once: every request gets an empty 200, except
// requests for /never, which get no answer at all.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace urlpoll::test {

class fast_http_server {
public:
  fast_http_server();
  ~fast_http_server();

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  int port = 0;
  /// Requests answered so far.
  std::atomic<int> answered{0};
  /// Connections accepted so far.
  std::atomic<int> accepted{0};

private:
  void serve();

  int listener_ = -1;
  int epoll_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace urlpoll::test
