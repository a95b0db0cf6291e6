// urlpoll's configuration: the options as CAF's config system sees them, the
// checks CAF's parser leaves out, and the validated settings that the rest of
// urlpoll gets. Configuration is read here, once.
#pragma once

#include <cstddef>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/timestamp.hpp>

#include "actors/alerter.hpp"
#include "actors/dispatcher.hpp"
#include "actors/fleet.hpp"
#include "actors/health.hpp"
#include "actors/history.hpp"
#include "actors/resource.hpp"
#include "app/logging.hpp"

namespace urlpoll {

enum class status_format { text, json };

/// standalone: polls its own targets. worker: runs pollers for coordinators.
/// coordinator: owns the targets, polls through workers (and itself).
enum class node_role { standalone, worker, coordinator };

/// The port a worker listens on unless told otherwise.
constexpr uint16_t default_worker_port = 9190;

/// One target, validated: from `targets` or a plain URL. Its state_rules
/// index is into settings::state_rule_sets.
using target_spec = fleet_target;

/// Everything urlpoll needs to run, validated.
struct settings {
  /// The targets with their rules, each URL once, in the order
  /// configured: first `targets`, then `urls`, then `url-file`.
  std::vector<target_spec> targets;
  std::vector<state_rules> state_rule_sets;
  /// Where transitions go as JSON lines: "", "stdout" or a file path.
  std::string events;
  /// Log lines above this priority are not written.
  log_level log_threshold = log_level::info;
  /// The HTTP API and status page; none when http_listen is empty.
  std::optional<worker_address> http_listen;
  std::string http_token;
  std::vector<alert_rule> alerts;
  size_t pollers = 1;
  size_t max_in_flight = 1000;
  caf::timespan status_interval{0};
  status_format format = status_format::text;
  /// The text log's most target lines.
  size_t status_max_lines = 50;
  /// /metrics has series per target (else aggregates only).
  bool metrics_per_target = true;
  bool once = false;
  /// The first polls are spread evenly over this time.
  caf::timespan start_spread{0};
  /// How precisely the timer wheel wakes resources.
  caf::timespan timer_resolution{0};
  node_role role = node_role::standalone;
  /// worker: where to listen (port 0: any free port).
  worker_address listen;
  std::string node_name;
  /// coordinator: the workers, and how polls use them.
  std::vector<worker_address> workers;
  bool local_pollers = true;
  dispatch_mode dispatch = dispatch_mode::spread;
  uint32_t quorum = 0;
  /// vantage: how long a lost node's last views stand.
  caf::timespan lost_node_expiry = std::chrono::minutes{5};
  /// Links between nodes use TLS with mutual certificate checks.
  bool tls = false;
  /// openssl.certificate, .key and .cafile, as given.
  std::string tls_files;
  /// The passphrase of openssl.key: openssl.passphrase, or what
  /// openssl.passphrase-file holds.
  std::string tls_passphrase;
  /// Things worth saying at start-up that do not stop it.
  std::vector<std::string> warnings;
  /// The config file read (empty when none was) and the url-file as
  /// resolved: what watch-config watches.
  std::string config_file;
  std::string url_file;
  /// Reload when the config file or the url-file changes on disk.
  bool watch_config = false;
  /// The history database; empty: no history.
  std::string history;
  history_options history_keeping;
};

/// The options under [urlpoll], declared to CAF: each is also settable on
/// the command line as --urlpoll.NAME=VALUE, and --help lists them all.
class config : public caf::actor_system_config {
public:
  config();

  /// Every option urlpoll and CAF know.
  const caf::config_option_set& options() const { return custom_options_; }

  std::vector<std::string> urls;
  std::string url_file;
  size_t pollers;
  size_t max_in_flight = 1000;
  caf::timespan poll_interval;
  caf::timespan error_backoff;
  caf::timespan max_backoff;
  caf::timespan timeout;
  caf::timespan status_interval;
  std::string status_format;
  size_t status_max_lines = 50;
  bool metrics_per_target = true;
  bool once = false;
  /// Negative: the smaller of poll_interval and 10s.
  caf::timespan start_spread;
  bool fresh_connection = false;
  caf::timespan timer_resolution;
  std::string role;
  std::string listen;
  std::string node_name;
  std::vector<std::string> workers;
  bool local_pollers = true;
  std::string dispatch;
  size_t quorum = 0;
  caf::timespan lost_node_expiry = std::chrono::minutes{5};
  // Defaults of every target's rules.
  std::string method;
  bool follow_redirects = false;
  size_t max_redirects = 10;
  bool insecure = false;
  bool show_query = false;
  std::string headers_file;
  std::string ca_file;
  caf::timespan degraded_latency;
  size_t failure_threshold = 1;
  size_t success_threshold = 1;
  caf::timespan retry_interval;
  std::string body_match;
  size_t max_body = 64 * 1024;
  caf::timespan cert_expiry_warn;
  size_t flap_threshold = 5;
  caf::timespan flap_window;
  std::string events;
  std::string log_level = "info";
  std::string http_listen;
  std::string http_token;
  std::string http_token_file;
  bool watch_config = false;
  std::string history = "urlpoll-history.db";
  std::string history_password_file;
  /// The file that holds openssl.passphrase (CAF's option).
  std::string openssl_passphrase_file;
  caf::timespan history_flush;
  caf::timespan history_hourly;
  caf::timespan history_retention;
  caf::timespan ha_takeover;
  /// targets, expect, headers, alerts: as read from the file or the
  /// command line.
  std::map<std::string, caf::config_value> raw;

  /// --help, -h or -? was given: show help_text() instead of running.
  bool help_requested = false;

  /// The config file read, empty when none was.
  std::string file;
  /// Where each option was set: "FILE:LINE" or "the command line".
  std::map<std::string, std::string> origins;
};

/// Checks a config file in CAF's INI dialect for what CAF's own parser lets
/// pass: syntax errors, unterminated lists, unknown keys, values of the wrong
/// type, keys set twice. Returns one line per problem, naming `path`, the line
/// and the key; records in `origins` where each key was set.
std::vector<std::string>
check_config_file(const caf::config_option_set& options,
                  const std::string& path, std::istream& input,
                  std::map<std::string, std::string>& origins,
                  std::map<std::string, caf::config_value>* raw = nullptr);

/// The keys under [urlpoll] whose values are lists and dictionaries that
/// CAF's option types cannot hold (targets, expect, headers, alerts): urlpoll
/// reads them itself, from the file and the command line.
bool is_raw_key(const std::string& qualified);

/// Reads the command line and the config file (caf-application.conf, or the
/// one named by --config-file=PATH) into `cfg`. Returns one line per problem.
std::vector<std::string> load_config(config& cfg, int argc, char** argv);

/// One row of the README's table of [urlpoll] options, in Markdown: the
/// option (or options) in backticks, its default, what it does. --help
/// shows the same words, without the Markdown.
struct option_doc {
  const char* option;
  const char* default_text;
  const char* help;
};

/// Every [urlpoll] option, in the order the README lists them.
const std::vector<option_doc>& option_docs();

/// The README's table of [urlpoll] options (urlpoll --help-markdown=options).
std::string options_markdown();

/// What --help shows: usage, every option under [urlpoll] with its default,
/// and the exit codes.
std::string help_text(const config& cfg);

/// Turns the parsed options into settings: reads url-file, checks every URL
/// and value. Returns one line per problem; `out` is complete only when
/// there is none.
std::vector<std::string> make_settings(const config& cfg, settings& out);

/// The whole configuration from the command line `args` (argv without the
/// program name) and the files they name: settings, or one line per problem.
/// A pure function of the files: start-up, reload and --check-config share
/// it.
struct loaded_settings {
  settings values;
  std::vector<std::string> errors;
};
loaded_settings load_settings(const std::vector<std::string>& args);

/// Reads "host:port" or "[v6-address]:port"; nullopt when malformed or when
/// the port is 0 and `any_port` is false.
std::optional<worker_address> parse_address(const std::string& text,
                                            bool any_port);

/// Whether `host` names this machine only (127.0.0.0/8, ::1, localhost).
bool is_loopback(const std::string& host);

} // namespace urlpoll
