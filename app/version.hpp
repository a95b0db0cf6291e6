// What urlpoll is and what it runs on: `urlpoll --version`, and the labels of
// urlpoll_build_info in /metrics.
#pragma once

#include <string>

namespace urlpoll {

/// urlpoll's version, "0.1.0": the top entry of packaging/changelog.
const char* urlpoll_version();

/// The git commit urlpoll was built from, "1a2b3c4"; "unknown" when its
/// source was no git checkout (a tarball).
const char* build_commit();

/// The CAF urlpoll was built with, "0.17.6".
std::string caf_version();

/// The libcurl urlpoll runs with (at run time), "7.88.1".
std::string libcurl_version();

/// What `urlpoll --version` prints: "urlpoll 0.1.0" on the first line (as
/// help2man and GNU tools expect), then the commit, CAF and libcurl.
std::string version_text();

} // namespace urlpoll
