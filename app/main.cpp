// urlpoll: an HTTP endpoint monitor. Reads its configuration, then hands
// over to run(); exit codes: 0 fine, 1 a target is down (with --urlpoll.once),
// 2 the configuration is wrong, 3 urlpoll cannot listen where told.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include <caf/actor_system.hpp>
#include <curl/curl.h>

#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/run.hpp"
#include "app/targets.hpp"
#include "app/version.hpp"

namespace {

// The first problems are what a user fixes first; a file of garbage must not
// bury the terminal.
constexpr size_t shown_errors = 20;

int config_error(const std::vector<std::string>& errors) {
  using urlpoll::log_level;
  for (size_t i = 0; i < errors.size() && i < shown_errors; ++i)
    urlpoll::write_log(log_level::error,
                       "urlpoll: configuration error: " + errors[i]);
  if (errors.size() > shown_errors)
    urlpoll::write_log(log_level::error,
                       "urlpoll: ... and " +
                         std::to_string(errors.size() - shown_errors) +
                         " more configuration errors");
  return 2;
}

// --check-config: everything start-up checks, through the same
// load_settings, and nothing start-up does: no actor system, no poll, no
// port, no file written.
int check_config(const std::vector<std::string>& args) {
  auto loaded = urlpoll::load_settings(args);
  if (!loaded.errors.empty())
    return config_error(loaded.errors);
  for (auto& warning : loaded.values.warnings)
    urlpoll::write_log(urlpoll::log_level::warning, "urlpoll: " + warning);
  std::cout << "configuration OK: " << loaded.values.targets.size()
            << " targets, " << loaded.values.alerts.size() << " alerts\n";
  return 0;
}

bool has(const std::vector<std::string>& args, const char* flag) {
  return std::find(args.begin(), args.end(), flag) != args.end();
}

} // namespace

int main(int argc, char** argv) {
  // First of all: a SIGHUP that comes while urlpoll starts must not end it.
  urlpoll::block_stop_signals();
  // A file size limit (ulimit -f) must fail a write, which the history
  // survives, rather than end the process.
  std::signal(SIGXFSZ, SIG_IGN);
  // A closed stdout (`urlpoll | head`) must fail a write, which the printer
  // reports once, rather than end the process before the history is saved.
  std::signal(SIGPIPE, SIG_IGN);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    std::cerr << "urlpoll: libcurl failed to initialize\n";
    return 1;
  }
  std::vector<std::string> args{argv + 1, argv + argc};
  // The README's tables, from the tables that read and check the options:
  // --help-markdown the per-target keys, --help-markdown=options [urlpoll].
  if (has(args, "--help-markdown")) {
    std::cout << urlpoll::rule_keys_markdown();
    return 0;
  }
  if (has(args, "--help-markdown=options")) {
    std::cout << urlpoll::options_markdown();
    return 0;
  }
  // As --help: whatever else the command line holds, and with no
  // configuration read (help2man and bug reports run it anywhere).
  if (has(args, "--version")) {
    std::cout << urlpoll::version_text();
    return 0;
  }
  if (has(args, "--check-config") && !has(args, "--help") && !has(args, "-h") &&
      !has(args, "-?")) {
    args.erase(std::remove(args.begin(), args.end(), "--check-config"),
               args.end());
    return check_config(args);
  }
  urlpoll::config cfg;
  if (auto errors = urlpoll::load_config(cfg, argc, argv); !errors.empty())
    return config_error(errors);
  if (cfg.help_requested) {
    std::cout << urlpoll::help_text(cfg);
    return 0;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  urlpoll::settings settings;
  if (auto errors = urlpoll::make_settings(cfg, settings); !errors.empty())
    return config_error(errors);
  // CAF's TLS reads the passphrase where it reads its options.
  cfg.openssl_passphrase = settings.tls_passphrase;
  int exit_code = 0;
  {
    caf::actor_system sys{cfg};
    exit_code = urlpoll::run(sys, std::move(settings),
                             std::vector<std::string>(argv + 1, argv + argc));
  }
  curl_global_cleanup();
  if (exit_code == urlpoll::restart_as_standby) {
    // Another coordinator leads: this one starts again, as a standby, from
    // nothing but its configuration and the database. The same process
    // (systemd sees the same PID), none of its descriptors but stdio.
    urlpoll::write_log(urlpoll::log_level::notice,
                       "urlpoll: starting again as a standby");
    ::close_range(3, ~0U, 0);
    ::execv("/proc/self/exe", argv);
    urlpoll::write_log(urlpoll::log_level::error,
                       std::string{"urlpoll: cannot start again: "} +
                         std::strerror(errno));
    return 1;
  }
  return exit_code;
}
