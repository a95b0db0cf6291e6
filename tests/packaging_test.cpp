// What a package installs: `cmake --install` into a folder of the test's
// (DESTDIR), the man page help2man wrote from `urlpoll --help`, and the
// systemd units checked by systemd-analyze as systemd itself would.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <doctest/doctest.h>

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
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

process_result sh(const std::string& cmd, const std::string& dir) {
  child c{"/bin/sh", {"-c", cmd}, dir};
  return c.wait(60s);
}

bool exists(const std::string& path) {
  return std::ifstream{path}.good();
}

// "640": the permission bits of `path`, in octal.
std::string mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return "none";
  char text[8];
  std::snprintf(text, sizeof(text), "%o", st.st_mode & 07777);
  return text;
}

// A unit of packaging/ with the built binary and `conf` in place of the
// installed ones, so that systemd-analyze finds what it names.
std::string unit_for_test(const std::string& name, const std::string& dir,
                          const std::string& conf) {
  auto text = read_file(URLPOLL_SOURCE_DIR "/packaging/" + name + ".in");
  auto put = [&](const std::string& key, const std::string& value) {
    for (size_t at; (at = text.find(key)) != std::string::npos;)
      text.replace(at, key.size(), value);
  };
  put("@URLPOLL_BIN@", URLPOLL_BINARY);
  put("@URLPOLL_CONF@", conf);
  put("@URLPOLL_CONFDIR@", dir);
  auto path = dir + "/" + name;
  std::ofstream{path} << text;
  return path;
}

} // namespace

TEST_CASE("cmake --install puts the binary, the man page, the units and "
          "/etc/urlpoll/urlpoll.conf in place") {
  temp_dir dir;
  // The build's own prefix (/usr/local unless configured otherwise); the
  // configuration goes to /etc/urlpoll whatever the prefix.
  auto r = sh("DESTDIR='" + dir.path +
                "' cmake --install '" URLPOLL_BUILD_DIR "' 2>&1",
              dir.path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  std::string prefix = URLPOLL_INSTALL_PREFIX;
  CHECK(exists(dir.path + prefix + "/bin/urlpoll"));
  CHECK(exists(dir.path + prefix + "/share/man/man1/urlpoll.1.gz"));
  auto units =
    dir.path + (prefix == "/usr" ? "" : prefix) + "/lib/systemd/system/";
  CHECK(exists(units + "urlpoll-worker@.service"));
  auto conf = dir.path + "/etc/urlpoll/urlpoll.conf";
  CHECK(read_file(conf) ==
        read_file(URLPOLL_SOURCE_DIR "/caf-application.conf"));
  // It holds webhook URLs and tokens: no one else reads it.
  CHECK(mode_of(conf) == "640");
  auto unit = read_file(units + "urlpoll.service");
  CHECK(contains(unit, "ExecStart=" + prefix +
                         "/bin/urlpoll "
                         "--config-file=/etc/urlpoll/urlpoll.conf\n"));
  CHECK(contains(unit, "Type=notify\n"));
}

TEST_CASE("the man page has every option of urlpoll --help, the exit codes, "
          "the signals and the files") {
  temp_dir dir;
  auto man = sh("zcat '" URLPOLL_BUILD_DIR "/urlpoll.1.gz'", dir.path);
  REQUIRE(man.exit_code == 0);
  auto help = run_urlpoll({"--help"}, dir.path);
  REQUIRE(help.exit_code == 0);
  int options = 0;
  std::istringstream lines{help.out};
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  --urlpoll.", 0) != 0)
      continue;
    auto name = line.substr(12, line.find_first_of("=[", 12) - 12);
    // As help2man writes it: "\fB\-\-urlpoll\fR.max\-in\-flight=1000".
    std::string escaped = "\\fB\\-\\-urlpoll\\fR.";
    for (auto c : name)
      escaped += c == '-' ? std::string{"\\-"} : std::string(1, c);
    ++options;
    CHECK_MESSAGE(contains(man.out, escaped), name);
  }
  CHECK(options > 40);
  // The header names the version that urlpoll --version prints first.
  auto version = run_urlpoll({"--version"}, dir.path);
  REQUIRE(version.exit_code == 0);
  auto first_line = version.out.substr(0, version.out.find('\n'));
  CHECK_MESSAGE(
    contains(man.out, "\" \"" + first_line + "\" \"User Commands\"\n"),
    man.out.substr(0, 400));
  for (auto section : {".SH \"EXIT STATUS\"", ".SH SIGNALS", ".SH FILES"})
    CHECK_MESSAGE(contains(man.out, section), section);
  CHECK(contains(man.out, "SIGHUP"));
}

TEST_CASE("the systemd units pass systemd-analyze verify, and the service's "
          "exposure stays low") {
  temp_dir dir;
  auto conf = dir.path + "/urlpoll.conf";
  std::ofstream{conf} << "[urlpoll]\nurls = [\"http://127.0.0.1:9/\"]\n";
  std::ofstream{dir.path + "/w1.conf"} << "[urlpoll]\nrole = \"worker\"\n";
  auto service = unit_for_test("urlpoll.service", dir.path, conf);
  auto worker = unit_for_test("urlpoll-worker@.service", dir.path, conf);
  auto instance = dir.path + "/urlpoll-worker@w1.service";
  sh("ln -s '" + worker + "' '" + instance + "'", dir.path);
  // Documentation=man:urlpoll(1): verify runs `man 1 urlpoll`, which must
  // find the page this build made, on a machine where urlpoll was never
  // installed too. MANPATH alone (no ':' to add the system's) is all man
  // searches: an installed page of an earlier build cannot stand in for it.
  auto man1 = dir.path + "/man/man1";
  std::filesystem::create_directories(man1);
  std::filesystem::copy_file(URLPOLL_BUILD_DIR "/urlpoll.1.gz",
                             man1 + "/urlpoll.1.gz");
  auto manpath = "MANPATH='" + dir.path + "/man' ";
  auto found = sh(manpath + "man -w 1 urlpoll 2>&1", dir.path);
  CHECK_MESSAGE(found.out == man1 + "/urlpoll.1.gz\n",
                "man -w 1 urlpoll: " << found.out
                                     << " (scripts/setup installs man-db)");
  for (auto& unit : {service, instance}) {
    auto r =
      sh(manpath + "systemd-analyze verify '" + unit + "' 2>&1", dir.path);
    CHECK_MESSAGE(r.exit_code == 0, unit << ": " << r.out);
    CHECK_MESSAGE(r.out.empty(), unit << ": " << r.out);
  }
  auto r = sh("systemd-analyze security --offline=true --threshold=20 '" +
                service + "' 2>&1 | tail -1",
              dir.path);
  CHECK_MESSAGE(r.exit_code == 0, r.out);
  CHECK_MESSAGE(
    contains(r.out, "Overall exposure level for urlpoll.service: 1."), r.out);
}

namespace {

// Runs packaging/postinst `args` with its files under `root` (DPKG_ROOT)
// and stand-ins for the commands that change the system (useradd, chown,
// systemctl, ...), each of which writes its arguments to root/calls.
// `users` are the users and groups getent knows.
std::string run_postinst(const std::string& root, const std::string& args,
                         const std::string& users) {
  auto bin = root + "/bin";
  std::filesystem::create_directories(bin);
  for (auto name : {"useradd", "chown", "systemctl", "deb-systemd-helper",
                    "deb-systemd-invoke", "dpkg-statoverride"}) {
    auto path = bin + "/" + name;
    std::ofstream{path} << "#!/bin/sh\necho " << name << " \"$@\" >> '" << root
                        << "/calls'\n"
                        << (std::string{name} == "dpkg-statoverride"
                              ? "exit 1\n"
                              : "");
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  }
  std::ofstream{bin + "/getent"} << "#!/bin/sh\ncase ' " << users
                                 << " ' in *\" $2 \"*) exit 0;; esac\nexit 2\n";
  std::filesystem::permissions(bin + "/getent",
                               std::filesystem::perms::owner_all);
  std::filesystem::remove(root + "/calls");
  auto r =
    sh("PATH='" + bin + "':$PATH DPKG_ROOT='" + root +
         "' sh '" URLPOLL_SOURCE_DIR "/packaging/postinst' " + args + " 2>&1",
       root);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return read_file(root + "/calls");
}

} // namespace

TEST_CASE("postinst makes the urlpoll user and gives it the configuration "
          "to read, 0640 root:urlpoll, unless the admin chose otherwise") {
  temp_dir dir;
  auto conf = dir.path + "/etc/urlpoll/urlpoll.conf";
  std::filesystem::create_directories(dir.path + "/etc/urlpoll");
  std::ofstream{conf} << "[urlpoll]\n";
  // As the package before left it (root:root 0644: the test runs as root).
  ::chmod(conf.c_str(), 0644);
  auto calls = run_postinst(dir.path, "configure", "");
  CHECK_MESSAGE(contains(calls, "useradd --system --user-group "), calls);
  CHECK(contains(calls, "chown root:urlpoll " + conf + "\n"));
  CHECK(mode_of(conf) == "640");
  // An upgrade, with the user there already.
  ::chmod(conf.c_str(), 0644);
  calls = run_postinst(dir.path, "configure 0.1.0", "urlpoll");
  CHECK_FALSE(contains(calls, "useradd"));
  CHECK(contains(calls, "chown root:urlpoll " + conf + "\n"));
  CHECK(mode_of(conf) == "640");
  // A mode the admin chose stays.
  ::chmod(conf.c_str(), 0600);
  calls = run_postinst(dir.path, "configure 0.1.0", "urlpoll");
  CHECK_FALSE(contains(calls, "chown"));
  CHECK(mode_of(conf) == "600");
}