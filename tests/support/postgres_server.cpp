#include "support/postgres_server.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace urlpoll::test {

namespace fs = std::filesystem;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

constexpr const char* pg_lib = "/usr/lib/postgresql";
constexpr const char* install_hint =
  "scripts/setup installs Debian's postgresql";

/// The programs this class runs, all from one version's bin folder.
const char* const programs[] = {"initdb", "pg_ctl", "postgres", "psql",
                                "pg_isready"};

/// "15" or "9.6" as {15} or {9, 6}; empty when `name` is no version.
std::vector<int> version_of(const std::string& name) {
  std::vector<int> version;
  std::istringstream in{name};
  std::string part;
  while (std::getline(in, part, '.')) {
    if (part.empty() || part.size() > 4 ||
        !std::all_of(part.begin(), part.end(),
                     [](unsigned char c) { return std::isdigit(c); }))
      return {};
    version.push_back(std::stoi(part));
  }
  return version;
}

/// The bin folder of the highest version under /usr/lib/postgresql that has
/// all of `programs`, or "" (PATH does not matter: Debian keeps the server's
/// programs out of it).
std::string find_bindir() {
  std::string best;
  std::vector<int> best_version;
  std::error_code ec;
  for (fs::directory_iterator it{pg_lib, ec}, end; !ec && it != end;
       it.increment(ec)) {
    auto version = version_of(it->path().filename().string());
    if (version.empty() || version <= best_version)
      continue;
    auto bin = it->path() / "bin";
    auto complete = std::all_of(std::begin(programs), std::end(programs),
                                [&](const char* program) {
                                  auto path = (bin / program).string();
                                  return ::access(path.c_str(), X_OK) == 0;
                                });
    if (complete) {
      best = bin.string();
      best_version = version;
    }
  }
  return best;
}

/// Who runs initdb and the server: they refuse root.
struct account {
  bool switch_user = false; // running as root: setuid to uid/gid
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

/// Finds the account; false, and why in `why`, when there is none.
bool find_account(account& result, std::string& why) {
  if (::geteuid() != 0) {
    result = account{};
    return true;
  }
  for (auto name : {"postgres", "nobody"}) {
    passwd pw;
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(name, &pw, buf.data(), buf.size(), &found) == 0 && found &&
        found->pw_uid != 0) {
      result = account{true, found->pw_uid, found->pw_gid, name};
      return true;
    }
  }
  why = "running as root, and initdb and postgres refuse root, but there is "
        "no user postgres or nobody to run them as (" +
        std::string{install_hint} + ", which creates the user postgres)";
  return false;
}

struct outcome {
  /// The exit code, 128 + N after signal N, -1 when it did not end in time.
  int code = -1;
  std::string out;
  std::string err;
};

std::string command_line(const std::vector<std::string>& args) {
  std::string line;
  for (auto& arg : args) {
    if (!line.empty())
      line += ' ';
    line += arg.find(' ') == std::string::npos ? arg : "'" + arg + "'";
  }
  return line;
}

/// Runs `args` (args[0] a full path) as `as`, with a small environment of
/// our own (no PG* variables of the caller's), for at most `limit`; killed
/// with its process group after that.
outcome run(const std::vector<std::string>& args, const account& as,
            const std::string& home, milliseconds limit) {
  // Everything the child needs is made before fork: a child of a threaded
  // process may only make async-signal-safe calls until it execs.
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings{
    "PATH=/usr/bin:/bin", "LC_ALL=C",          "LANG=C",
    "HOME=" + home,       "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10"};
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  rlimit files{};
  auto max_fd =
    ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
      ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20))
      : 65536;
  const char setuid_failed[] = "postgres_server: could not switch user\n";
  const char exec_failed[] = "postgres_server: could not execute\n";
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error{"postgres_server: pipe: " +
                             std::string{std::strerror(errno)}};
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    auto error = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error{"postgres_server: pipe: " +
                             std::string{std::strerror(error)}};
  }
  auto pid = ::fork();
  if (pid == 0) {
    // Its own process group: a timeout kills what it started, too (but not
    // the postmaster, which pg_ctl puts in a session of its own).
    ::setpgid(0, 0);
    auto null = ::open("/dev/null", O_RDONLY);
    if (null >= 0)
      ::dup2(null, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    // No descriptor of the test's (sockets, files) lives on in the server.
    if (::close_range(3, ~0U, 0) != 0)
      for (int fd = 3; fd < max_fd; ++fd)
        ::close(fd);
    if (as.switch_user && (::setgroups(1, &as.gid) != 0 ||
                           ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)) {
      [[maybe_unused]] auto n =
        ::write(STDERR_FILENO, setuid_failed, sizeof(setuid_failed) - 1);
      ::_exit(126);
    }
    // A folder any user may be in: the test's own may be closed to them.
    if (::chdir("/") != 0)
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    [[maybe_unused]] auto n =
      ::write(STDERR_FILENO, exec_failed, sizeof(exec_failed) - 1);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    auto error = errno;
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw std::runtime_error{"postgres_server: fork: " +
                             std::string{std::strerror(error)}};
  }
  outcome result;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  auto deadline = steady_clock::now() + limit;
  steady_clock::time_point exited_at;
  bool exited = false;
  int status = 0;
  for (;;) {
    pollfd pfds[2];
    nfds_t n = 0;
    for (int fd : fds)
      if (fd >= 0)
        pfds[n++] = {fd, POLLIN, 0};
    if (n > 0 && ::poll(pfds, n, 20) > 0) {
      for (nfds_t i = 0; i < n; ++i) {
        if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
          continue;
        char buf[4096];
        auto got = ::read(pfds[i].fd, buf, sizeof(buf));
        auto& text = pfds[i].fd == fds[0] ? result.out : result.err;
        if (got > 0) {
          text.append(buf, static_cast<size_t>(got));
        } else if (got == 0 || errno != EINTR) {
          for (int& fd : fds)
            if (fd == pfds[i].fd) {
              ::close(fd);
              fd = -1;
            }
        }
      }
    } else if (n == 0) {
      std::this_thread::sleep_for(10ms);
    }
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      exited_at = steady_clock::now();
    }
    // After the exit, what is left in the pipes; a process it left behind
    // holding them open does not keep us waiting.
    if (exited &&
        ((fds[0] < 0 && fds[1] < 0) || steady_clock::now() - exited_at > 500ms))
      break;
    if (!exited && steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      for (int fd : fds)
        if (fd >= 0)
          ::close(fd);
      result.code = -1;
      return result;
    }
  }
  for (int fd : fds)
    if (fd >= 0)
      ::close(fd);
  result.code =
    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string describe(const std::vector<std::string>& args, const outcome& r,
                     milliseconds limit) {
  std::string text = command_line(args);
  if (r.code == -1)
    text += " did not end within " + std::to_string(limit.count()) + " ms";
  else
    text += " failed (exit code " + std::to_string(r.code) + ")";
  if (!r.out.empty())
    text += "\n--- its stdout:\n" + r.out;
  if (!r.err.empty())
    text += "\n--- its stderr:\n" + r.err;
  return text;
}

/// A port on 127.0.0.1 that was free a moment ago (ephemeral, never 5432).
uint16_t free_port() {
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      break;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
    ::close(fd);
    if (port != 0 && port != 5432)
      return port;
  }
  throw std::runtime_error{
    "postgres_server: found no free port on 127.0.0.1: " +
    std::string{std::strerror(errno)}};
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A string literal of SQL (standard_conforming_strings is on).
std::string literal(const std::string& text) {
  std::string quoted = "'";
  for (char c : text)
    quoted += c == '\'' ? std::string{"''"} : std::string(1, c);
  return quoted + "'";
}

/// An identifier of SQL, quoted.
std::string identifier(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name)
    quoted += c == '"' ? std::string{"\"\""} : std::string(1, c);
  return quoted + "\"";
}

/// `text` as a path segment of a URI.
std::string percent_encoded(const std::string& text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// The state letter in /proc/PID/stat ('Z' for a zombie) and the parent, or
/// 0 when there is no such process.
char state_of(pid_t pid, pid_t& parent) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size())
    return 0;
  std::istringstream rest{stat.substr(close + 2)};
  char state = 0;
  rest >> state >> parent;
  return state;
}

/// Whether `pid` still runs: a zombie does not. A zombie of ours is reaped.
bool alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH))
    return false;
  pid_t parent = 0;
  auto state = state_of(pid, parent);
  if (state == 'Z' && parent == ::getpid())
    ::waitpid(pid, nullptr, WNOHANG);
  return state != 0 && state != 'Z' && state != 'X';
}

/// The running processes whose working folder is `dir`: a postmaster moves
/// into its data folder, and its children inherit that (a zombie has none).
std::vector<pid_t> processes_in(const std::string& dir) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (fs::directory_iterator it{"/proc", ec}, end; !ec && it != end;
       it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isdigit(c); }))
      continue;
    std::error_code ignored;
    auto cwd = fs::read_symlink(it->path() / "cwd", ignored);
    if (!ignored && cwd == dir)
      found.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return found;
}

/// The postmaster's process id from the first line of postmaster.pid, or -1.
pid_t postmaster_of(const std::string& data) {
  std::ifstream in{data + "/postmaster.pid"};
  long pid = -1;
  if (!(in >> pid) || pid <= 0)
    return -1;
  return static_cast<pid_t>(pid);
}

template <class Pred>
bool within(milliseconds limit, Pred done) {
  auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

/// Start-up and shut-down: pg_ctl's own -t 30, plus a margin for pg_ctl.
constexpr auto pg_ctl_limit = 45s;
constexpr auto initdb_limit = 120s;
constexpr auto psql_limit = 30s;
constexpr auto gone_limit = 15s;
constexpr int start_attempts = 5;

} // namespace

std::string postgres_server::unavailable() {
  if (find_bindir().empty())
    return "PostgreSQL's server programs are missing: no "
           "/usr/lib/postgresql/<version>/bin with initdb, pg_ctl, postgres, "
           "psql and pg_isready (" +
           std::string{install_hint} + ")";
  account as;
  std::string why;
  if (!find_account(as, why))
    return why;
  std::error_code ec;
  if (fs::temp_directory_path(ec).empty() || ec)
    return "no temporary folder: " + ec.message();
  return "";
}

postgres_server::postgres_server() {
  if (auto why = unavailable(); !why.empty())
    throw std::runtime_error{"postgres_server: " + why};
  bin_ = find_bindir();
  account as;
  std::string why;
  find_account(as, why);
  switch_user_ = as.switch_user;
  uid_ = as.uid;
  gid_ = as.gid;
  auto pattern = (fs::temp_directory_path() / "urlpoll-pg-XXXXXX").string();
  if (!::mkdtemp(pattern.data()))
    throw std::runtime_error{"postgres_server: mkdtemp " + pattern + ": " +
                             std::strerror(errno)};
  folder_ = pattern;
  log_ = folder_ + "/server.log";
  try {
    if (switch_user_ && ::chown(folder_.c_str(), uid_, gid_) != 0)
      throw std::runtime_error{"postgres_server: chown " + folder_ + " to " +
                               as.name + ": " + std::strerror(errno)};
    std::vector<std::string> initdb{
      bin_ + "/initdb",  "-D",         folder_ + "/data",
      "--auth=trust",    "-U",         "urlpoll",
      "--encoding=UTF8", "--locale=C", "--no-sync"};
    auto r = run(initdb, as, folder_, initdb_limit);
    if (r.code != 0)
      throw std::runtime_error{
        "postgres_server: " + describe(initdb, r, initdb_limit) +
        (switch_user_ ? "\n(run as the user " + as.name +
                          ", who must be able to reach " + folder_ + ")"
                      : std::string{})};
    data_ = fs::canonical(folder_ + "/data").string();
    // Our settings, after (and so over) initdb's.
    {
      std::ofstream conf{data_ + "/postgresql.conf", std::ios::app};
      if (!(conf << "\ninclude 'urlpoll_test.conf'\n" << std::flush))
        throw std::runtime_error{"postgres_server: could not write " + data_ +
                                 "/postgresql.conf"};
    }
    // The port was free when we looked; another process may take it before
    // the server binds it. Then another port.
    std::string failures;
    for (int attempt = 1;; ++attempt) {
      port_ = free_port();
      write_settings();
      std::string failure;
      if (try_start(failure))
        break;
      failures += failure;
      auto port_taken =
        failure.find("Address already in use") != std::string::npos;
      if (!port_taken || attempt == start_attempts)
        throw std::runtime_error{"postgres_server: the server did not start (" +
                                 std::to_string(attempt) + " attempts)\n" +
                                 failures};
    }
  } catch (...) {
    clean_up();
    throw;
  }
}

postgres_server::~postgres_server() {
  clean_up();
}

void postgres_server::clean_up() noexcept {
  try {
    if (!data_.empty()) {
      account as{switch_user_, uid_, gid_, ""};
      if (running_ || alive(postmaster_of(data_)))
        run({bin_ + "/pg_ctl", "stop", "-D", data_, "-w", "-t", "30", "-m",
             "immediate"},
            as, folder_, pg_ctl_limit);
      // Whatever is left, killed: no server outlives the test.
      within(gone_limit, [&] {
        auto left = processes_in(data_);
        for (auto pid : left)
          ::kill(pid, SIGKILL);
        return left.empty();
      });
      if (postmaster_ > 0)
        alive(postmaster_); // reaps it if it is a zombie of ours
    }
  } catch (...) {
  }
  running_ = false;
  if (!folder_.empty()) {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
  }
}

void postgres_server::write_settings() {
  std::string socket_dir;
  for (char c : folder_)
    socket_dir += c == '\'' ? std::string{"''"} : std::string(1, c);
  auto file = data_ + "/urlpoll_test.conf";
  {
    std::ofstream out{file, std::ios::trunc};
    out << "# urlpoll's tests: a quick, quiet server of their own\n"
        << "listen_addresses = '127.0.0.1'\n"
        << "port = " << port_ << "\n"
        << "unix_socket_directories = '" << socket_dir << "'\n"
        << "fsync = off\n"
        << "synchronous_commit = off\n"
        << "full_page_writes = off\n"
        << "max_connections = 50\n"
        << "shared_buffers = 16MB\n"
        << "logging_collector = off\n";
    if (!out.flush())
      throw std::runtime_error{"postgres_server: could not write " + file};
  }
  if (switch_user_ && ::chown(file.c_str(), uid_, gid_) != 0)
    throw std::runtime_error{"postgres_server: chown " + file + ": " +
                             std::strerror(errno)};
}

bool postgres_server::try_start(std::string& why) {
  account as{switch_user_, uid_, gid_, ""};
  auto log_before = read_file(log_).size();
  std::vector<std::string> pg_ctl{
    bin_ + "/pg_ctl", "start", "-D", data_, "-l", log_, "-w", "-t", "30"};
  auto r = run(pg_ctl, as, folder_, pg_ctl_limit);
  auto log = read_file(log_);
  auto this_time = log.substr(std::min(log_before, log.size()));
  if (r.code != 0) {
    why = "on port " + std::to_string(port_) + ": " +
          describe(pg_ctl, r, pg_ctl_limit) + "\n--- the server's log:\n" +
          this_time + "\n";
    // pg_ctl gave up, the server may still come up later: not on our watch.
    if (auto pid = postmaster_of(data_); alive(pid)) {
      ::kill(pid, SIGKILL);
      wait_until_gone(pid, "after a failed start");
    }
    return false;
  }
  postmaster_ = postmaster_of(data_);
  running_ = true;
  // pg_ctl -w saw it ready; so must a client, on the address the tests use.
  std::vector<std::string> isready{bin_ + "/pg_isready",
                                   "-q",
                                   "-h",
                                   "127.0.0.1",
                                   "-p",
                                   std::to_string(port_),
                                   "-U",
                                   "urlpoll",
                                   "-d",
                                   "postgres",
                                   "-t",
                                   "5"};
  outcome ready;
  auto accepts = within(30s, [&] {
    ready = run(isready, account{}, folder_, 10s);
    return ready.code == 0;
  });
  if (!accepts) {
    why = "on port " + std::to_string(port_) +
          ": pg_ctl started it, but it did not accept connections within "
          "30 s: " +
          describe(isready, ready, 10s) + "\n--- the server's log:\n" +
          log_tail() + "\n";
    return false;
  }
  return true;
}

void postgres_server::start() {
  if (running_)
    return;
  std::string why;
  if (!try_start(why))
    throw std::runtime_error{"postgres_server: the server did not start "
                             "again " +
                             why};
}

void postgres_server::stop() {
  if (!running_)
    return;
  account as{switch_user_, uid_, gid_, ""};
  std::vector<std::string> pg_ctl{
    bin_ + "/pg_ctl", "stop", "-D", data_, "-w", "-t", "30", "-m", "fast"};
  auto r = run(pg_ctl, as, folder_, pg_ctl_limit);
  if (r.code != 0)
    throw std::runtime_error{
      "postgres_server: " + describe(pg_ctl, r, pg_ctl_limit) +
      "\n--- the server's log (last lines):\n" + log_tail()};
  wait_until_gone(postmaster_, "after pg_ctl stop");
  running_ = false;
}

void postgres_server::kill9() {
  auto pid = postmaster_of(data_);
  if (pid <= 0)
    pid = postmaster_;
  if (!alive(pid))
    throw std::runtime_error{"postgres_server: kill9: no postmaster runs "
                             "(postmaster.pid names " +
                             std::to_string(pid) + ")"};
  ::kill(pid, SIGKILL);
  wait_until_gone(pid, "after SIGKILL");
  running_ = false;
}

void postgres_server::wait_until_gone(pid_t postmaster, const char* what) {
  // The postmaster first, then its children: each ends when it sees the
  // postmaster gone. Those still there after a while are killed.
  auto gone = [&] {
    return !alive(postmaster) && processes_in(data_).empty();
  };
  if (!within(gone_limit, gone)) {
    for (auto pid : processes_in(data_))
      ::kill(pid, SIGKILL);
    if (!within(5s, gone))
      throw std::runtime_error{"postgres_server: the server's processes "
                               "still run " +
                               std::string{what} +
                               "\n--- the server's log (last lines):\n" +
                               log_tail()};
  }
  // A postmaster that stays a zombie (its parent, now init, does not reap)
  // looks alive to the next postmaster, which would then refuse the data
  // folder and the socket: their lock files go, as after a reboot.
  if (postmaster > 0 && ::kill(postmaster, 0) == 0) {
    std::error_code ignored;
    fs::remove(data_ + "/postmaster.pid", ignored);
    fs::remove(folder_ + "/.s.PGSQL." + std::to_string(port_) + ".lock",
               ignored);
  }
}

std::string postgres_server::psql(const std::string& statement,
                                  const std::string& db) {
  auto uri = "postgresql://urlpoll@127.0.0.1:" + std::to_string(port_) + "/" +
             percent_encoded(db);
  std::vector<std::string> args{
    bin_ + "/psql",    "-X", "-A", "-t", "-q",     "-v",
    "ON_ERROR_STOP=1", "-d", uri,  "-c", statement};
  auto r = run(args, account{}, folder_, psql_limit);
  if (r.code != 0)
    throw std::runtime_error{
      "postgres_server: " + describe(args, r, psql_limit) +
      "\n--- the server's log (last lines):\n" + log_tail()};
  if (!r.out.empty() && r.out.back() == '\n')
    r.out.pop_back();
  return r.out;
}

void postgres_server::ensure_database(const std::string& db) {
  if (databases_.count(db))
    return;
  if (psql("SELECT 1 FROM pg_database WHERE datname = " + literal(db),
           "postgres") != "1")
    psql("CREATE DATABASE " + identifier(db), "postgres");
  databases_.insert(db);
}

std::string postgres_server::uri(const std::string& db) {
  ensure_database(db);
  return "postgresql://urlpoll@127.0.0.1:" + std::to_string(port_) + "/" +
         percent_encoded(db);
}

std::string postgres_server::sql(const std::string& statement,
                                 const std::string& db) {
  ensure_database(db);
  return psql(statement, db);
}

std::string postgres_server::log_tail() const {
  auto log = read_file(log_);
  // The last 30 lines at most.
  auto pos = log.size();
  for (int lines = 0; pos > 0 && lines <= 30; --pos)
    if (log[pos - 1] == '\n')
      ++lines;
  if (pos > 0)
    log = "[...]\n" + log.substr(pos + 1);
  return log.empty() ? "(empty)\n" : log;
}

} // namespace urlpoll::test
