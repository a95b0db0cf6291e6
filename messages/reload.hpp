// A reload of the configuration: what changed, or why nothing did.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace urlpoll {

/// How the set of targets changed in one reload, target by target (a target
/// is its name).
struct fleet_change {
  uint32_t added = 0;
  /// Same URL, other rules: state and history kept.
  uint32_t changed = 0;
  /// Another URL under the same name: a new target under an old name.
  uint32_t replaced = 0;
  uint32_t removed = 0;
  uint32_t unchanged = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fleet_change& x) {
  return f(caf::meta::type_name("fleet_change"), x.added, x.changed, x.replaced,
           x.removed, x.unchanged);
}

/// The answer to a reload request.
struct reload_report {
  /// What asked for it: "SIGHUP", "POST /-/reload", "the file watch", ...
  std::string trigger;
  caf::timestamp time;
  /// Applied; when false, the running configuration is untouched.
  bool ok = false;
  /// Why it was refused: the configuration errors, with file, line and key.
  std::vector<std::string> errors;
  /// Changed settings that only a restart applies (applied: the rest).
  std::vector<std::string> needs_restart;
  fleet_change targets;
  uint32_t target_count = 0;
  uint32_t alert_count = 0;
  /// From the request to the new configuration applied.
  caf::timespan took{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reload_report& x) {
  return f(caf::meta::type_name("reload_report"), x.trigger, x.time, x.ok,
           x.errors, x.needs_restart, x.targets, x.target_count, x.alert_count,
           x.took);
}

/// The outcome of the last reload, for the snapshot and /metrics.
struct reload_status {
  /// How many reloads were tried since start (the start-up is not one).
  uint64_t reloads = 0;
  uint64_t failed_reloads = 0;
  /// The last reload's time and outcome; the epoch when there was none.
  caf::timestamp last_time;
  bool last_ok = true;
  /// When the configuration was last loaded successfully (at start-up, or
  /// by the last good reload).
  caf::timestamp last_success;
  /// The last failed reload's first errors.
  std::vector<std::string> last_errors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reload_status& x) {
  return f(caf::meta::type_name("reload_status"), x.reloads, x.failed_reloads,
           x.last_time, x.last_ok, x.last_success, x.last_errors);
}

} // namespace urlpoll
