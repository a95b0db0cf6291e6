// A real, throw-away PostgreSQL server for one test: a fresh cluster in a
// temporary folder, on 127.0.0.1 and a free port, removed afterwards.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <sys/types.h>

namespace urlpoll::test {

class postgres_server {
public:
  /// Starts a fresh cluster (initdb + pg_ctl start) in a new temporary folder,
  /// listening on 127.0.0.1 only, on a free ephemeral port, no unix socket
  /// outside the folder. Throws std::runtime_error with a clear message on
  /// failure.
  postgres_server();
  /// pg_ctl stop -m immediate, then removes the folder; never throws.
  ~postgres_server();

  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  /// Why PostgreSQL cannot be used here ("" when it can): binaries missing
  /// (name what to install: `scripts/setup` installs Debian's postgresql),
  /// etc.
  static std::string unavailable();

  /// A libpq URI for database `db` (created on first use with CREATE DATABASE
  /// via psql: the server must be running then), e.g.
  /// "postgresql://urlpoll@127.0.0.1:PORT/db".
  std::string uri(const std::string& db = "urlpoll");

  /// pg_ctl stop -m fast; waits until it has stopped (bounded: 30 s).
  /// Nothing to do when it is not running.
  void stop();

  /// Starts it again on the SAME port and data folder; waits until it accepts
  /// connections (bounded). Nothing to do when it is running.
  void start();

  /// SIGKILL the postmaster (for crash tests), then wait until it and its
  /// children are gone; start() works after.
  void kill9();

  /// Runs one SQL statement with psql on database `db` and returns its stdout
  /// (psql -At, without the last newline). Throws on failure.
  std::string sql(const std::string& statement,
                  const std::string& db = "urlpoll");

  uint16_t port() const { return port_; }

  /// The temporary folder: data/ (the cluster), server.log, the unix socket.
  const std::string& folder() const { return folder_; }

private:
  /// pg_ctl start on port_; false (and `why`) when it did not start.
  bool try_start(std::string& why);
  void write_settings();
  void wait_until_gone(pid_t postmaster, const char* what);
  std::string psql(const std::string& statement, const std::string& db);
  void ensure_database(const std::string& db);
  std::string log_tail() const;
  void clean_up() noexcept;

  std::string bin_;    // /usr/lib/postgresql/<major>/bin
  std::string folder_; // the temporary folder
  std::string data_;   // folder_/data, canonical
  std::string log_;    // folder_/server.log
  bool switch_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  uint16_t port_ = 0;
  pid_t postmaster_ = -1;
  bool running_ = false;
  std::set<std::string> databases_;
};

} // namespace urlpoll::test
