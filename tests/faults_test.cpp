// Faults a long-running service meets, tried with the built binary: a
// closed stdout (`urlpoll | head`) and an open file limit lower than the
// targets' connections. (A full disk for the history: restart_test.cpp.)
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, {}};
}

// The child's exit code, 128 + N after signal N, or -1 while it runs.
int reap(pid_t pid, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() >= until)
      return -1;
    ::usleep(20'000);
  }
}

} // namespace

TEST_CASE("a closed stdout (urlpoll | head) is said once on stderr, and "
          "urlpoll goes on until it is stopped") {
  http_server server;
  temp_dir dir;
  // stdout: a pipe nobody reads any more, as after `head` exited.
  int out[2];
  REQUIRE(::pipe(out) == 0);
  ::close(out[0]);
  auto err_path = dir.path + "/err";
  std::string urls = "--urlpoll.urls=[\"" + server.url("/ok") + "\"]";
  std::vector<std::string> args{URLPOLL_BINARY, urls,
                                "--urlpoll.status-interval=100ms",
                                "--urlpoll.http-listen="};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  auto err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(err_fd >= 0);
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    if (::chdir(dir.path.c_str()) != 0)
      ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err_fd);
  // Several status intervals: still running, and the status was tried.
  auto said = [&] {
    return contains(read_file(err_path), "stdout is closed");
  };
  for (int i = 0; i < 100 && !said(); ++i)
    ::usleep(50'000);
  CHECK(reap(pid, 500ms) == -1);
  ::kill(pid, SIGTERM);
  CHECK(reap(pid, 10s) == 0);
  auto err = read_file(err_path);
  CHECK_MESSAGE(said(), err);
  // Once, however many statuses followed.
  CHECK(err.find("stdout is closed") == err.rfind("stdout is closed"));
}

TEST_CASE("an open file limit lower than the targets' connections makes "
          "polls wait, with a clear word, not fail") {
  http_server server;
  temp_dir dir;
  std::ofstream list{dir.path + "/urls.txt"};
  for (int i = 0; i < 200; ++i)
    list << server.url("/node?t=" + std::to_string(i) + "&delay=50") << "\n";
  list.close();
  // 200 slow targets polled at once would need 200 sockets; 128 allowed.
  // Each poll closes its connection: the test server has a thread per
  // kept-alive connection, and only 32.
  auto cmd = std::string{"ulimit -n 128 && exec '"} + URLPOLL_BINARY +
             "' --urlpoll.once --urlpoll.pollers=1 --urlpoll.start-spread=0s "
             "--urlpoll.fresh-connection=true --urlpoll.show-query "
             "--urlpoll.url-file=urls.txt --urlpoll.http-listen=";
  child sh{"/bin/sh", {"-c", cmd}, dir.path};
  auto r = sh.wait(60s);
  CHECK_MESSAGE(contains(r.err, "the open file limit (128, ulimit -n) is "
                                "lower than pollers x max-in-flight (1 x "
                                "1000)"),
                r.err);
  CHECK_MESSAGE(r.exit_code == 0, r.err.substr(0, 3000));
  CHECK_MESSAGE(!contains(r.out, "Too many open files"), r.out.substr(0, 2000));
}
