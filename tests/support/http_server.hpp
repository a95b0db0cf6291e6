// HTTP servers for tests, on 127.0.0.1 and an ephemeral port each.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>

namespace urlpoll::test {

/// A real HTTP server (cpp-httplib) with the endpoints the tests poll:
///   /ok           200
///   /unavailable  503
///   /redirect     302 to /ok
///   /slow         200 after `slow_delay`
///   /never        no answer until the server stops
///   /node         503 to the nodes named in ?fail=a,b (by the node name in
///                 urlpoll's User-Agent), 200 to others, after ?delay=MS;
///                 each request is kept as a visit
///   /code         the status code in ?c=
///   /no-head      405 to HEAD, 200 with a body to GET
///   /body         200 with the body "status: healthy"
///   /big          200 with 1 MiB of body: "start" ... "end"
///   /token        200 with the header X-Token: secret, else 401
///   /loop         302 to itself
///   /to-ftp       302 to an ftp:// URL
///   /switch       the status code in `switch_code` (200 until a test
///                 changes it)
///   POST /hook    a webhook: keeps each body, answers 500 to the first
///                 `fail_hooks(n)` posts and 200 to the rest
/// It counts the requests it receives. With a certificate and key it serves
/// HTTPS (cpp-httplib over OpenSSL).
class http_server {
public:
  explicit http_server(
    std::chrono::milliseconds slow_delay = std::chrono::milliseconds{300},
    const std::string& cert = {}, const std::string& key = {})
    : tls_(!cert.empty()) {
    if (tls_)
      owned_ = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
    else
      owned_ = std::make_unique<httplib::Server>();
    auto& server_ = *owned_;
    // A kept-alive connection holds a server thread, and stop() waits for
    // it: short, so that a test ends soon after its last poll.
    server_.set_keep_alive_timeout(1);
    server_.Get("/code",
                [this](const httplib::Request& req, httplib::Response& res) {
                  ++requests;
                  res.status = std::stoi(req.get_param_value("c"));
                });
    server_.Get("/no-head",
                [this](const httplib::Request& req, httplib::Response& res) {
                  ++requests;
                  std::lock_guard<std::mutex> guard{mtx_};
                  methods_.push_back(req.method);
                  if (req.method == "HEAD") {
                    res.status = 405;
                    return;
                  }
                  res.set_content("hello", "text/plain");
                });
    server_.Get("/body",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.set_content("status: healthy", "text/plain");
                });
    server_.Get("/big",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.set_content("start" + std::string(1 << 20, 'x') + "end",
                                  "text/plain");
                });
    server_.Get(
      "/token", [this](const httplib::Request& req, httplib::Response& res) {
        ++requests;
        res.status = req.get_header_value("X-Token") == "secret" ? 200 : 401;
      });
    server_.Get("/switch",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.status = switch_code;
                });
    server_.Post("/hook",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard<std::mutex> guard{mtx_};
                   if (hook_failures_ > 0) {
                     --hook_failures_;
                     res.status = 500;
                     return;
                   }
                   hooks_.push_back(req.body);
                 });
    server_.Get("/loop",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.set_redirect("/loop");
                });
    server_.Get("/to-ftp",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.set_redirect("ftp://127.0.0.1/file");
                });
    server_.Get("/ok",
                [this](const httplib::Request& req, httplib::Response& res) {
                  ++requests;
                  std::lock_guard<std::mutex> guard{mtx_};
                  methods_.push_back(req.method);
                  res.status = 200;
                });
    server_.Get("/unavailable",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.status = 503;
                });
    server_.Get("/redirect",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  res.set_redirect("/ok");
                });
    server_.Get("/slow", [this, slow_delay](const httplib::Request&,
                                            httplib::Response& res) {
      ++requests;
      std::this_thread::sleep_for(slow_delay);
      res.status = 200;
    });
    server_.Get("/never",
                [this](const httplib::Request&, httplib::Response& res) {
                  ++requests;
                  // Bounded, so that a broken test cannot hang forever.
                  std::unique_lock<std::mutex> guard{mtx_};
                  stopped_cv_.wait_for(guard, std::chrono::seconds{30},
                                       [this] { return stopping_; });
                  res.status = 200;
                });
    server_.Get(
      "/node", [this](const httplib::Request& req, httplib::Response& res) {
        ++requests;
        auto agent = req.get_header_value("User-Agent");
        auto at = agent.find("(node ");
        visit v;
        if (at != std::string::npos)
          v.node = agent.substr(at + 6, agent.find(')', at) - at - 6);
        v.target = req.get_param_value("t");
        v.time = std::chrono::steady_clock::now();
        if (req.has_param("delay"))
          std::this_thread::sleep_for(
            std::chrono::milliseconds{std::stoi(req.get_param_value("delay"))});
        auto fail = "," + req.get_param_value("fail") + ",";
        res.status =
          !v.node.empty() && fail.find("," + v.node + ",") != std::string::npos
            ? 503
            : 200;
        std::lock_guard<std::mutex> guard{mtx_};
        visits_.push_back(std::move(v));
      });
    port = server_.bind_to_any_port("127.0.0.1");
    REQUIRE_MESSAGE(server_.is_valid(), "the test server could not start");
    thread_ = std::thread{[this] {
      owned_->listen_after_bind();
    }};
    // cpp-httplib's stop() does nothing to a server that is not running
    // yet, which then accepts for ever: a test that ends at once (a skip)
    // would hang in the destructor. This version says "running" by no other
    // means than is_running().
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (!owned_->is_running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }

  ~http_server() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stopping_ = true;
    }
    stopped_cv_.notify_all();
    owned_->stop();
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") +
           std::to_string(port) + path;
  }

  std::atomic<int> switch_code{200};

  /// The bodies /hook took, in order.
  std::vector<std::string> hooks() {
    std::lock_guard<std::mutex> guard{mtx_};
    return hooks_;
  }

  /// Answer the next `n` posts to /hook with 500.
  void fail_hooks(int n) {
    std::lock_guard<std::mutex> guard{mtx_};
    hook_failures_ = n;
  }

  /// A request to /node: which node polled which target (?t=) when.
  struct visit {
    std::string node;
    std::string target;
    std::chrono::steady_clock::time_point time;
  };

  std::vector<visit> visits() {
    std::lock_guard<std::mutex> guard{mtx_};
    return visits_;
  }

  /// The methods of the requests to /ok, in order.
  std::vector<std::string> methods() {
    std::lock_guard<std::mutex> guard{mtx_};
    return methods_;
  }

  int port = 0;
  std::atomic<int> requests{0};

private:
  bool tls_;
  std::unique_ptr<httplib::Server> owned_;
  std::vector<std::string> methods_;
  std::vector<visit> visits_;
  std::vector<std::string> hooks_;
  int hook_failures_ = 0;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable stopped_cv_;
  bool stopping_ = false;
};

/// A TCP server on 127.0.0.1 that answers each connection, one at a time,
/// with `answer(fd, stopping)` once the request has arrived: for answers no
/// HTTP library would give. `answer` must end soon after `stopping` is set.
class scripted_server {
public:
  using answer_fn = std::function<void(int fd, const std::atomic<bool>&)>;

  explicit scripted_server(answer_fn answer);
  ~scripted_server();

  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  int port = 0;

private:
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// Answers every connection with a reset (RST) once the request arrived:
/// what a crashing or hostile server looks like.
class reset_server : public scripted_server {
public:
  reset_server();
};

/// Writes all of `text` to `fd`, ignoring a peer that went away.
void send_all(int fd, const std::string& text);

/// A port on 127.0.0.1 where nothing listens: connections are refused.
int closed_port();

} // namespace urlpoll::test
