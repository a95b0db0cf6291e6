// reloader: the running configuration.
//
// Owns:     the settings in force (the last that loaded without an error)
//           and how to read them again (the command line); the alerters, by
//           name; the poll path (the local pollers, or a coordinator's
//           dispatcher in front of its nodes); the outcome of every reload.
// Receives: (start_atom) -> reload_report from main: apply the settings read
//           at start-up (the first reload, which reads nothing);
//           (reload_atom, trigger) -> reload_report from the signal watcher
//           (SIGHUP), the HTTP API (POST /-/reload) and the file watch:
//           read the configuration again and apply it, or change nothing;
//           (run_reload_atom) from itself: the reloads asked for until now,
//           applied as one (50 requests in a second read the file once or
//           twice, not 50 times);
//           (configure_atom, file watch) from main: tell it of new files;
//           (retire_atom, pollers) from itself: a replaced poll path's last
//           polls are over; stop it.
// Sends:    (apply_atom, plan) to the fleet, and waits for its answer;
//           (pollers_atom, pollers) to the fleet when the poll path changes;
//           (configure_atom, ...) to the state monitor, the printer and the
//           alerters whose rules changed;
//           (subscribe_atom / unsubscribe_atom, alerter) to the state
//           monitor for alerters that come and go;
//           (reloaded_atom, reload_status) to the state monitor;
//           (reload_atom, trigger) and (reloaded_atom, ok) to the service
//           around every reload, and (pollers_atom, local pollers) when the
//           poll path changes;
//           one line per reload, and each error, to the printer.
//
// It runs on a thread of its own: reading a file of 100,000 URLs must not
// hold up a scheduler thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "app/config.hpp"
#include "app/service.hpp"

namespace urlpoll {

using reloader_actor = caf::typed_actor<
  caf::replies_to<start_atom>::with<reload_report>,
  caf::replies_to<reload_atom, std::string>::with<reload_report>,
  caf::reacts_to<run_reload_atom>, caf::reacts_to<configure_atom, caf::actor>,
  caf::reacts_to<retire_atom, caf::actor>>;

/// Where polls go: the local pollers, a coordinator's dispatcher, or both.
struct poll_path {
  /// What resources poll through.
  poller_actor pollers;
  /// The local pool, if any.
  poller_actor local;
  /// A coordinator's dispatcher, if any.
  dispatcher_actor nodes;
};

/// Spawns the poll path `cfg` describes.
poll_path spawn_poll_path(caf::actor_system& sys, const settings& cfg,
                          const state_monitor_actor& monitor);

/// Stops every part of `x`.
void stop(const poll_path& x);

/// The parts a reload changes, spawned by run().
struct running_parts {
  fleet_actor fleet;
  state_monitor_actor monitor;
  caf::actor printer;
  /// Told of a new config file or url-file; may be invalid.
  caf::actor file_watch;
  /// The history (may be invalid), and what it resumed at start-up, for the
  /// first alerters.
  history_actor history;
  std::shared_ptr<const history_resume> resume;
  /// Told of reloads and of the pollers in use, under systemd; may be
  /// invalid.
  service_actor service;
  /// A coordinator of a pair (a PostgreSQL history): alerters deliver
  /// nothing before the history's first lease.
  bool pair = false;
};

struct reloader_state {
  /// The command line, read again at every reload.
  std::vector<std::string> args;
  /// In force, without its targets (the fleet owns them).
  settings running;
  running_parts parts;
  poll_path path;
  /// Replaced poll paths, answering their last polls.
  std::vector<caf::actor> retiring;
  std::map<std::string, std::pair<alert_rule, alerter_actor>> alerters;
  reload_status status;
  /// Reloads asked for and not yet run.
  std::vector<caf::typed_response_promise<reload_report>> waiting;
  std::vector<std::string> triggers;
  bool scheduled = false;
  static inline const char* name = "reloader";
};

/// Spawns the reloader on its own thread; `cfg` is the configuration read at
/// start-up (applied by start_atom), `args` the command line.
reloader_actor spawn_reloader(caf::actor_system& sys, settings cfg,
                              std::vector<std::string> args,
                              running_parts parts);

/// The files the file watch watches under `cfg`: none without watch-config.
std::vector<std::string> watched_files(const settings& cfg);

/// What the reload answer says, as JSON: {"status": "ok", "targets": ...}.
std::string to_json(const reload_report& x);

/// The line a reload prints on stderr.
std::string reload_line(const reload_report& x);

} // namespace urlpoll
