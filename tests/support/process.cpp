#include "support/process.hpp"

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace urlpoll::test {

using namespace std::chrono;

child::child(const std::string& program, const std::vector<std::string>& args,
             const std::string& cwd) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    return;
  // Everything the child needs is made before fork: between fork and exec
  // a child of a threaded process may only make async-signal-safe calls.
  // An allocation there can wait forever for a lock that another thread of
  // the test held at the fork (seen under AddressSanitizer: a child that
  // never ran urlpoll).
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (auto& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  // Tests run side by side: urlpoll's HTTP API stays off unless a test
  // asks for it (on port 0).
  std::string no_api = "--urlpoll.http-listen=";
  auto wants_api = std::any_of(args.begin(), args.end(), [](auto& arg) {
    return arg.rfind("--urlpoll.http-listen=", 0) == 0;
  });
  if (program == URLPOLL_BINARY && !wants_api)
    argv.push_back(no_api.data());
  argv.push_back(nullptr);
  started_ = steady_clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    if (::chdir(cwd.c_str()) != 0)
      ::_exit(127);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

child::~child() {
  if (pid_ > 0 && result_.exit_code == -1) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0)
    ::close(out_fd_);
  if (err_fd_ >= 0)
    ::close(err_fd_);
}

void child::read_available(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (::poll(fds, 2, timeout_ms) <= 0)
    return;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    if ((fds[i].revents & (POLLIN | POLLHUP)) == 0)
      continue;
    auto n = ::read(fds[i].fd, buf, sizeof(buf));
    if (n > 0)
      (i == 0 ? result_.out : result_.err).append(buf, static_cast<size_t>(n));
    else if (n == 0) {
      auto& fd = i == 0 ? out_fd_ : err_fd_;
      ::close(fd);
      fd = -1;
    }
  }
}

bool child::wait_for(
  const std::function<bool(const std::string&, const std::string&)>& done,
  milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  while (!done(result_.out, result_.err)) {
    if (steady_clock::now() >= deadline || (out_fd_ < 0 && err_fd_ < 0))
      return false;
    read_available(20);
  }
  return true;
}

void child::signal(int sig) {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

process_result child::wait(milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    auto rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      result_.elapsed =
        duration_cast<milliseconds>(steady_clock::now() - started_);
      result_.exit_code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      result_.exit_code = -1;
      pid_ = -1;
      return result_;
    }
    read_available(10);
  }
  // Whatever the child wrote before it ended.
  while (out_fd_ >= 0 || err_fd_ >= 0)
    read_available(100);
  return result_;
}

process_result run_urlpoll(const std::vector<std::string>& args,
                           const std::string& cwd, milliseconds limit) {
  child c{URLPOLL_BINARY, args, cwd};
  return c.wait(limit);
}

} // namespace urlpoll::test
