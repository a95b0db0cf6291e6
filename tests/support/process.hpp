// Runs the built urlpoll binary as a child process, with bounded waits.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace urlpoll::test {

struct process_result {
  /// The exit code, 128 + N after signal N, -1 when it did not end in time.
  int exit_code = -1;
  std::string out;
  std::string err;
  /// How long from start to exit.
  std::chrono::milliseconds elapsed{0};
};

class child {
public:
  /// Starts `program` with `args` in the directory `cwd`. The urlpoll
  /// binary gets --urlpoll.http-listen= (no HTTP API) unless `args` set it.
  child(const std::string& program, const std::vector<std::string>& args,
        const std::string& cwd);
  ~child();

  /// Reads output until `done(out, err)` holds or `limit` passes.
  bool wait_for(const std::function<bool(const std::string& out,
                                         const std::string& err)>& done,
                std::chrono::milliseconds limit);

  void signal(int sig);

  /// The child's process id.
  pid_t pid() const { return pid_; }

  /// Waits up to `limit` for the exit, then kills the child.
  process_result wait(std::chrono::milliseconds limit);

private:
  void read_available(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::chrono::steady_clock::time_point started_;
  process_result result_;
};

/// The built urlpoll, run in `cwd` with `args`, for at most `limit`.
process_result
run_urlpoll(const std::vector<std::string>& args, const std::string& cwd,
            std::chrono::milliseconds limit = std::chrono::seconds{20});

} // namespace urlpoll::test
