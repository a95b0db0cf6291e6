// The throw-away PostgreSQL server of tests/support/postgres_server.hpp: it
// starts, answers SQL, comes back on its port after a stop and after a
// SIGKILL with what was committed, and leaves nothing behind.
#include <filesystem>

#include <doctest/doctest.h>

#include "support/postgres_server.hpp"
#include "support/require_postgres.hpp"

using namespace urlpoll::test;

TEST_CASE("postgres_server: starts, answers SQL, restarts on the same port, "
          "and cleans up") {
  REQUIRE_POSTGRES();
  std::string folder;
  {
    postgres_server pg;
    folder = pg.folder();
    auto port = pg.port();
    CHECK(port != 0);
    CHECK(port != 5432);
    CHECK(pg.uri() == "postgresql://urlpoll@127.0.0.1:" + std::to_string(port) +
                        "/urlpoll");
    CHECK(pg.sql("SELECT 1") == "1");
    pg.sql("CREATE TABLE polls (target text PRIMARY KEY, ok boolean)");
    pg.sql("INSERT INTO polls VALUES ('shop', true)");
    CHECK(pg.sql("SHOW listen_addresses") == "127.0.0.1");
    CHECK(pg.sql("SHOW unix_socket_directories") == folder);

    pg.stop();
    CHECK_THROWS_AS(pg.sql("SELECT 1"), std::runtime_error);
    pg.start();
    CHECK(pg.port() == port);
    CHECK(pg.sql("SELECT target || ' ' || ok FROM polls") == "shop true");

    pg.kill9();
    CHECK_THROWS_AS(pg.sql("SELECT 1"), std::runtime_error);
    pg.start();
    CHECK(pg.port() == port);
    CHECK(pg.sql("SELECT target || ' ' || ok FROM polls") == "shop true");
    // A second database, made on first use.
    CHECK(pg.sql("SELECT current_database()", "other") == "other");
  }
  CHECK_FALSE(std::filesystem::exists(folder));
}
