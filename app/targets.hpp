// Per-target rules: the `targets` list under [urlpoll], each entry a
// dictionary of keys that default to the [urlpoll] options, read and checked
// here with the file and line of every problem.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/config_value.hpp>

#include "actors/alerter.hpp"
#include "actors/health.hpp"
#include "actors/resource.hpp"

namespace urlpoll {

struct fleet_target;
using target_spec = fleet_target;

/// What a per-target key holds, and so how it is read and checked.
enum class rule_kind {
  text,
  path,
  method,
  duration,
  whole_number,
  boolean,
  expect,
  headers
};

/// One per-target key: the one description that reads and checks it in a
/// `targets` entry and as an [urlpoll] default, and that --help and the
/// README's table show.
struct rule_key {
  /// In a `targets` entry.
  const char* key;
  /// Its default under [urlpoll]; nullptr for keys of an entry only (name,
  /// url).
  const char* option;
  rule_kind kind;
  /// whole_number: the values allowed.
  int64_t min = 0;
  int64_t max = 0;
  /// The default, as the README's table shows it.
  const char* default_text;
  /// What it does, in the README's words; --help shows it too.
  const char* help;
};

/// Every key a `targets` entry may have, in the order the README lists them.
const std::vector<rule_key>& rule_keys();

/// The rule key `name` (a `targets` entry's key or an [urlpoll] option), or
/// nullptr.
const rule_key* find_rule_key(const std::string& name);

/// Reads `value` as `key` into `rules` and `state`, checking its type and
/// range. Returns the problem in words, or an empty string. `name` and `url`
/// are read by read_targets itself.
std::string read_rule(const rule_key& key, const caf::config_value& value,
                      target_rules& rules, state_rules& state);

/// The table of per-target keys in Markdown, as the README shows it.
std::string rule_keys_markdown();

/// The keys a `targets` entry may have.
const std::vector<std::string>& target_keys();

/// Where a configuration path was set: "FILE:LINE" or "the command line".
using origin_fn = std::function<std::string(const std::string& path)>;

/// A relative path set in the config file `config_file` (its `origin` is
/// "FILE:LINE" there) is relative to that file's folder; one set anywhere
/// else (the command line) is relative to the working directory. The one
/// rule for every path option: url-file, events, ca-file, openssl.*.
std::string resolve_path(const std::string& path, const std::string& origin,
                         const std::string& config_file);

/// Reads the secret in the file at `path` into `out`: its text without the
/// newlines at its end (an editor's, `echo`'s). Returns the problem in
/// words, naming the path ("cannot read 'PATH': REASON"), or an empty
/// string. An empty file is a problem: an empty secret would be none.
std::string read_secret_file(const std::string& path, std::string& out);

/// Reads "HEAD" or "GET", in any case. Returns the problem in words, or an
/// empty string.
std::string read_method(const std::string& text, http_method& out);

/// Reads status codes and ranges: [200, "300-399"], 204 or "200-299".
/// Returns the problem in words, or an empty string.
std::string read_expect(const caf::config_value& value,
                        std::vector<status_range>& out);

/// Reads a dictionary of header names and values into "Name: value" lines.
/// Returns the problem in words, or an empty string.
std::string read_headers(const caf::config_value& value,
                         std::vector<std::string>& out);

/// Reads the file at `path`, a "Name: value" line per header (blank lines
/// and lines starting with `#` ignored), into `out`, checked as
/// read_headers checks a dictionary. Returns the problem in words, or an
/// empty string.
std::string read_headers_file(const std::string& path,
                              std::vector<std::string>& out);

/// Checks one target's rules: impossible values (a zero interval, a negative
/// duration) and values that cannot work together (a body-match with HEAD, a
/// regex that does not compile). Returns (key, problem) pairs, keys named as
/// in a `targets` entry.
std::vector<std::pair<std::string, std::string>>
check_rules(const target_rules& rules);

/// Reads the `targets` entries at `path` ("urlpoll.targets"): each one's
/// rules start from `defaults` and `state_defaults`. Appends a target_spec
/// per good entry to `out`, its state rules to `state_sets`, and one line
/// per problem to `errors`.
void read_targets(const caf::config_value::list& entries,
                  const std::string& path, const target_rules& defaults,
                  const state_rules& state_defaults, const origin_fn& origin,
                  std::vector<target_spec>& out,
                  std::vector<state_rules>& state_sets,
                  std::vector<std::string>& errors);

/// The keys an `alerts` entry may have.
const std::vector<std::string>& alert_keys();

/// Reads the `alerts` entries at `path` ("urlpoll.alerts") into `out`, with
/// one line per problem in `errors`.
void read_alerts(const caf::config_value::list& entries,
                 const std::string& path, const origin_fn& origin,
                 std::vector<alert_rule>& out,
                 std::vector<std::string>& errors);

} // namespace urlpoll
