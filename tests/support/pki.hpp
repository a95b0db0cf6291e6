// Throw-away certificates for tests, made with the openssl command line:
// a CA, and certificates it signs, valid for a number of days (negative:
// already expired), with P-256 keys (quick to make).
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "support/process.hpp"

namespace urlpoll::test {

/// Runs `openssl ARGS` in `dir`; true when it succeeded.
inline bool openssl(const std::string& dir, std::vector<std::string> args) {
  child proc{"/usr/bin/openssl", args, dir};
  return proc.wait(std::chrono::seconds{20}).exit_code == 0;
}

/// `name`.pem and `name`.key in `dir`: a self-signed CA.
inline void make_ca(const std::string& dir, const std::string& name) {
  REQUIRE(openssl(dir, {"req", "-x509", "-days", "2", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", name + ".key", "-out", name + ".pem",
                        "-subj", "/CN=" + name}));
}

/// `name`.pem and `name`.key in `dir`, signed by `ca`, valid for `days`
/// from now (negative: it expired that many days ago), for 127.0.0.1.
inline void make_cert(const std::string& dir, const std::string& ca,
                      const std::string& name, int days = 30) {
  REQUIRE(openssl(dir, {"req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                        name + ".key", "-out", name + ".csr", "-subj",
                        "/CN=" + name}));
  {
    std::ofstream ext{dir + "/" + name + ".ext"};
    ext << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  REQUIRE(openssl(dir, {"x509", "-req", "-in", name + ".csr", "-CA",
                        ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                        "-out", name + ".pem", "-days", std::to_string(days),
                        "-extfile", name + ".ext"}));
}

} // namespace urlpoll::test
