// The history a test runs urlpoll on: a SQLite file in the test's folder,
// or a database on a throw-away PostgreSQL server. Tests that must hold for
// both run once on each (HISTORY_SUBCASES).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "support/postgres_server.hpp"
#include "support/process.hpp"
#include "support/require_postgres.hpp"

namespace urlpoll::test {

class test_history {
public:
  test_history(bool postgres, const std::string& dir) : dir_(dir) {
    if (postgres) {
      server_ = std::make_unique<postgres_server>();
      where = server_->uri();
    } else {
      where = dir + "/urlpoll-history.db";
    }
  }

  /// The command-line option that puts urlpoll's history here.
  std::string option() const { return "--urlpoll.history=" + where; }

  /// The first line of the answer to `statement`.
  std::string sql(const std::string& statement) {
    if (server_)
      return server_->sql(statement);
    child q{"/usr/bin/sqlite3", {where, statement}, dir_};
    auto out = q.wait(std::chrono::seconds{10}).out;
    while (!out.empty() && out.back() == '\n')
      out.pop_back();
    return out;
  }

  /// The server, for tests that stop it; null for SQLite.
  postgres_server* server() { return server_.get(); }

  /// A SQLite path or a PostgreSQL URI.
  std::string where;

private:
  std::string dir_;
  std::unique_ptr<postgres_server> server_;
};

} // namespace urlpoll::test

/// Declares `h`, a test_history in `dir`, and runs the rest of the test case
/// once with each database (PostgreSQL as REQUIRE_POSTGRES has it: a failure
/// where it cannot run, skipped with URLPOLL_SKIP_POSTGRES=1).
#define HISTORY_SUBCASES(h, dir)                                               \
  std::unique_ptr<urlpoll::test::test_history> h;                              \
  SUBCASE("on SQLite") {                                                       \
    h = std::make_unique<urlpoll::test::test_history>(false, dir);             \
  }                                                                            \
  SUBCASE("on PostgreSQL") {                                                   \
    REQUIRE_POSTGRES();                                                        \
    h = std::make_unique<urlpoll::test::test_history>(true, dir);              \
  }
