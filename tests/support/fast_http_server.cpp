#include "support/fast_http_server.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

namespace urlpoll::test {

fast_http_server::fast_http_server() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(listener_, 4096);
  socklen_t len = sizeof(addr);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener_;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &ev);
  thread_ = std::thread{[this] {
    serve();
  }};
}

fast_http_server::~fast_http_server() {
  stopping_ = true;
  thread_.join();
  ::close(epoll_);
  ::close(listener_);
}

void fast_http_server::serve() {
  static constexpr char answer[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  std::unordered_map<int, std::string> pending;
  epoll_event events[256];
  while (!stopping_) {
    int n = ::epoll_wait(epoll_, events, 256, 50);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener_) {
        for (;;) {
          int conn = ::accept4(listener_, nullptr, nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (conn < 0)
            break;
          ++accepted;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = conn;
          ::epoll_ctl(epoll_, EPOLL_CTL_ADD, conn, &ev);
          pending[conn];
        }
        continue;
      }
      char buf[4096];
      auto got = ::read(fd, buf, sizeof(buf));
      if (got <= 0) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        pending.erase(fd);
        continue;
      }
      auto& data = pending[fd];
      data.append(buf, static_cast<size_t>(got));
      for (auto end = data.find("\r\n\r\n"); end != std::string::npos;
           end = data.find("\r\n\r\n")) {
        auto request = data.substr(0, end);
        data.erase(0, end + 4);
        if (request.find(" /never") != std::string::npos)
          continue;
        ::send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL);
        ++answered;
      }
    }
  }
  for (auto& entry : pending)
    ::close(entry.first);
}

} // namespace urlpoll::test
