// A test that needs PostgreSQL fails where none can be started, saying what
// is missing and what installs it: a missing server must never pass for a
// tested one. URLPOLL_SKIP_POSTGRES=1 (README, "Development") asks to skip
// those tests instead; each then says that it skipped.
#pragma once

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "support/postgres_server.hpp"

namespace urlpoll::test {

/// Whether the test goes on with PostgreSQL: false, saying so, when
/// URLPOLL_SKIP_POSTGRES=1; else fails the test (it ends here) when
/// PostgreSQL cannot run here.
inline bool postgres_wanted() {
  if (auto skip = std::getenv("URLPOLL_SKIP_POSTGRES");
      skip != nullptr && std::string{skip} == "1") {
    MESSAGE("skipped: URLPOLL_SKIP_POSTGRES=1 skips the tests that need "
            "PostgreSQL");
    return false;
  }
  if (auto why = postgres_server::unavailable(); !why.empty())
    FAIL("this test needs PostgreSQL, which cannot run here: "
         << why
         << "; URLPOLL_SKIP_POSTGRES=1 would skip the tests that need it");
  return true;
}

} // namespace urlpoll::test

/// Ends the test case here when it is to skip PostgreSQL (postgres_wanted).
#define REQUIRE_POSTGRES()                                                     \
  if (!::urlpoll::test::postgres_wanted())                                     \
  return
