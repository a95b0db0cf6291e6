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

reset_server::reset_server() {
  listener_ = listen_on_loopback(port);
  thread_ = std::thread{[this] {
    while (!stopping_) {
      pollfd pfd{listener_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0)
        continue;
      int conn = ::accept(listener_, nullptr, nullptr);
      if (conn < 0)
        continue;
      // Wait (bounded) for the request, then reset the connection.
      pollfd cfd{conn, POLLIN, 0};
      ::poll(&cfd, 1, 1000);
      linger lin{1, 0};
      ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
      ::close(conn);
    }
  }};
}

reset_server::~reset_server() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

int closed_port() {
  int port = 0;
  int fd = listen_on_loopback(port);
  ::close(fd);
  return port;
}

} // namespace urlpoll::test
