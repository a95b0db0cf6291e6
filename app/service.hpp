// service: what urlpoll tells systemd (sd_notify(3)), when systemd started
// it with Type=notify.
//
// Owns:     the word to systemd: ready, reloading, stopping, a status line,
//           and the watchdog's proof that the actors still work.
// Receives: (ready_atom) from main, once the first polls are scheduled and
//           the HTTP API listens: READY=1;
//           (reload_atom, trigger) from the reloader when a reload begins:
//           RELOADING=1; (reloaded_atom, ok) when it ended: READY=1;
//           (pollers_atom, pollers) from the reloader: the local poller pool
//           in use (null on a coordinator without one);
//           (stop_atom) from main, when shutting down: STOPPING=1, and it
//           ends;
//           (report_atom) from itself every status period: STATUS=, e.g.
//           "1,000 targets: 998 up, 2 down";
//           (watchdog_atom) from itself every half watchdog period.
// Sends:    (get_atom, status_query) to the state monitor, for the counts;
//           (ping_atom) to the state monitor and to every poller of the pool
//           (asked by (sys_atom, get_atom)), each with a deadline of half the
//           watchdog period: WATCHDOG=1 only when every one answered, so that
//           a wedged urlpoll stops pinging and systemd restarts it;
//           a log line to the printer when a check fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/interfaces.hpp"
#include "messages/snapshot.hpp"

namespace urlpoll {

using service_actor = caf::typed_actor<
  caf::reacts_to<ready_atom>, caf::reacts_to<reload_atom, std::string>,
  caf::reacts_to<reloaded_atom, bool>,
  caf::reacts_to<pollers_atom, poller_actor>, caf::reacts_to<stop_atom>,
  caf::reacts_to<report_atom>, caf::reacts_to<watchdog_atom>>;

struct service_config {
  /// Sends one notification ("READY=1\nSTATUS=..."): sd_notify, or a test's
  /// recorder.
  std::function<void(const std::string&)> notify;
  /// systemd's WatchdogSec (sd_watchdog_enabled); 0: no watchdog.
  caf::timespan watchdog{0};
  /// How often STATUS= is sent.
  caf::timespan status_every = std::chrono::seconds{10};
  state_monitor_actor monitor;
  caf::actor printer;
};

/// "1,000 targets: 998 up, 2 down", the states that have targets, most
/// urgent first after up; "no targets" when there are none.
std::string status_line(const state_counts& x);

struct service_state {
  service_config cfg;
  poller_actor pollers;
  bool ready = false;
  /// The watchdog check under way: what has still to answer, and whether
  /// something failed to.
  uint64_t check = 0;
  size_t waiting = 0;
  bool failed = false;
  /// Said once per failure streak.
  bool complained = false;
  static inline const char* name = "service";
};

service_actor::behavior_type
service(service_actor::stateful_pointer<service_state> self,
        service_config cfg);

/// The service actor under systemd: notifies through sd_notify, with the
/// watchdog period systemd set; invalid when urlpoll does not run under
/// systemd's notify protocol (no NOTIFY_SOCKET).
service_actor spawn_service(caf::actor_system& sys,
                            const state_monitor_actor& monitor,
                            caf::actor printer);

} // namespace urlpoll
