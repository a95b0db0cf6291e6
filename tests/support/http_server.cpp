#include "support/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace urlpoll::test {

namespace {

int listen_on_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(fd, 128);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

} // namespace

scripted_server::scripted_server(answer_fn answer) {
  listener_ = listen_on_loopback(port);
  thread_ = std::thread{[this, answer] {
    while (!stopping_) {
      pollfd pfd{listener_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      int conn = ::accept(listener_, nullptr, nullptr);
      if (conn < 0)
        continue;
      // Wait (bounded) for the end of the request's headers.
      std::string request;
      char buf[4096];
      auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds{2};
      while (request.find("\r\n\r\n") == std::string::npos &&
             std::chrono::steady_clock::now() < deadline && !stopping_) {
        pollfd cfd{conn, POLLIN, 0};
        if (::poll(&cfd, 1, 50) <= 0)
          continue;
        auto n = ::recv(conn, buf, sizeof(buf), 0);
        if (n <= 0)
          break;
        request.append(buf, static_cast<size_t>(n));
      }
      answer(conn, stopping_);
      ::close(conn);
    }
  }};
}

scripted_server::~scripted_server() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

reset_server::reset_server()
  : scripted_server([](int fd, const std::atomic<bool>&) {
      linger lin{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    }) {
  // nop
}

void send_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    done += static_cast<size_t>(n);
  }
}

int closed_port() {
  int port = 0;
  int fd = listen_on_loopback(port);
  ::close(fd);
  return port;
}

} // namespace urlpoll::test
