// The message vocabulary of urlpoll: every type and atom that actors
// exchange, registered in one CAF type-ID block so that all of it can cross
// CAF nodes. Each type lives in its own header next to its `inspect`.
#pragma once

#include <vector>

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "messages/log.hpp"
#include "messages/node.hpp"
#include "messages/poll.hpp"
#include "messages/snapshot.hpp"

// clang-format off
CAF_BEGIN_TYPE_ID_BLOCK(urlpoll, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::status_range))
  CAF_ADD_TYPE_ID(urlpoll, (std::vector<urlpoll::status_range>))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::poll_request))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::poll_timings))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::node_view))
  CAF_ADD_TYPE_ID(urlpoll, (std::vector<urlpoll::node_view>))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::poll_result))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::node_status))
  CAF_ADD_TYPE_ID(urlpoll, (std::vector<urlpoll::node_status>))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::lateness_summary))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::transition))
  CAF_ADD_TYPE_ID(urlpoll, (std::vector<urlpoll::transition>))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::target_status))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::lateness_histogram))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::alert_counter))
  CAF_ADD_TYPE_ID(urlpoll, (std::vector<urlpoll::alert_counter>))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::fleet_change))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::reload_report))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::reload_status))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::snapshot))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::target_detail))
  CAF_ADD_TYPE_ID(urlpoll, (urlpoll::log_line))
  // resource -> pollers: poll this target now.
  CAF_ADD_ATOM(urlpoll, urlpoll, poll_atom, "poll")
  // timer wheel -> resource: the next poll is due.
  CAF_ADD_ATOM(urlpoll, urlpoll, due_atom, "due")
  // resource -> timer wheel: wake me at this time.
  CAF_ADD_ATOM(urlpoll, urlpoll, wake_atom, "wake")
  // timer wheel -> itself: deliver what is due.
  CAF_ADD_ATOM(urlpoll, urlpoll, tick_atom, "wheel_tick")
  // resource -> state_monitor: a poll of target N ended with this result.
  CAF_ADD_ATOM(urlpoll, urlpoll, polled_atom, "polled")
  // anyone -> state_monitor: answer once every target has a result.
  CAF_ADD_ATOM(urlpoll, urlpoll, all_polled_atom, "all_polled")
  // state_monitor -> itself: time to print the status.
  CAF_ADD_ATOM(urlpoll, urlpoll, print_atom, "print")
  // signal watcher -> main: SIGINT or SIGTERM arrived.
  CAF_ADD_ATOM(urlpoll, urlpoll, stop_atom, "stop")
  // coordinator -> worker: who are you? (the worker's node name)
  CAF_ADD_ATOM(urlpoll, urlpoll, hello_atom, "hello")
  // dispatcher -> itself: try to connect to worker N again.
  CAF_ADD_ATOM(urlpoll, urlpoll, reconnect_atom, "reconnect")
  // main -> dispatcher: answer once every worker was tried once.
  CAF_ADD_ATOM(urlpoll, urlpoll, ready_atom, "ready")
  // dispatcher -> state_monitor: the nodes as they are now.
  CAF_ADD_ATOM(urlpoll, urlpoll, nodes_atom, "nodes")
  // dispatcher -> itself: time to report the nodes.
  CAF_ADD_ATOM(urlpoll, urlpoll, report_atom, "report")
  // alerter -> state_monitor: one delivery to a webhook succeeded or failed.
  CAF_ADD_ATOM(urlpoll, urlpoll, alerted_atom, "alerted")
  // alerter -> itself: time for reminders and retries.
  CAF_ADD_ATOM(urlpoll, urlpoll, remind_atom, "remind")
  // alerter -> its sender: post this body to this URL.
  CAF_ADD_ATOM(urlpoll, urlpoll, post_atom, "post")
  // signal watcher, HTTP API, file watch -> reloader: read the configuration
  // again and apply it; answered with a reload_report.
  CAF_ADD_ATOM(urlpoll, urlpoll, reload_atom, "reload")
  // reloader -> fleet: these are the targets now; answered with what
  // changed.
  CAF_ADD_ATOM(urlpoll, urlpoll, apply_atom, "apply")
  // fleet -> state_monitor: the targets now, in configuration order.
  CAF_ADD_ATOM(urlpoll, urlpoll, track_atom, "track")
  // fleet -> resource: poll by these rules from the next poll on.
  CAF_ADD_ATOM(urlpoll, urlpoll, rules_atom, "rules")
  // reloader -> fleet -> resources: poll through this pool from now on.
  CAF_ADD_ATOM(urlpoll, urlpoll, pollers_atom, "pollers")
  // reloader -> state_monitor: send transitions to this alerter (too), or
  // no longer.
  CAF_ADD_ATOM(urlpoll, urlpoll, subscribe_atom, "follow")
  CAF_ADD_ATOM(urlpoll, urlpoll, unsubscribe_atom, "unfollow")
  // state_monitor -> alerters: this target left the configuration.
  CAF_ADD_ATOM(urlpoll, urlpoll, removed_atom, "removed")
  // reloader -> state_monitor, alerter, printer: new settings.
  CAF_ADD_ATOM(urlpoll, urlpoll, configure_atom, "configure")
  // reloader -> state_monitor: the outcome of the last reload.
  CAF_ADD_ATOM(urlpoll, urlpoll, reloaded_atom, "reloaded")
  // main -> reloader: apply the settings read at start-up.
  CAF_ADD_ATOM(urlpoll, urlpoll, start_atom, "start_up")
  // reloader -> itself: apply the reloads asked for so far, at once.
  CAF_ADD_ATOM(urlpoll, urlpoll, run_reload_atom, "run_reload")
  // reloader -> replaced dispatcher: answer what is in flight, then stop;
  // reloader -> itself: stop a replaced poll path once its polls drained.
  CAF_ADD_ATOM(urlpoll, urlpoll, retire_atom, "retire")
  // file watch -> itself: look for changes of the watched files.
  CAF_ADD_ATOM(urlpoll, urlpoll, look_atom, "look")
  // main -> state_monitor: what the history database resumes;
  // state_monitor -> history, every second: a batch of news.
  CAF_ADD_ATOM(urlpoll, urlpoll, resume_atom, "resume")
  CAF_ADD_ATOM(urlpoll, urlpoll, history_atom, "history")
  // history -> state_monitor: uptime bases;
  // history -> itself: time to look for bases due.
  CAF_ADD_ATOM(urlpoll, urlpoll, uptime_atom, "uptime")
  // history -> itself: time to write the hours being counted.
  CAF_ADD_ATOM(urlpoll, urlpoll, flush_atom, "flush")
  // history -> itself: time to roll hours into days and expire old data.
  CAF_ADD_ATOM(urlpoll, urlpoll, housekeep_atom, "housekeep")
  // main -> state_monitor and history at shutdown: write everything now.
  CAF_ADD_ATOM(urlpoll, urlpoll, save_atom, "save")
  // HTTP API -> history: a target's transitions; days of uptime.
  CAF_ADD_ATOM(urlpoll, urlpoll, transitions_atom, "changes")
  CAF_ADD_ATOM(urlpoll, urlpoll, daily_atom, "daily")
  // service -> state monitor, pollers: are you working? (the watchdog)
  CAF_ADD_ATOM(urlpoll, urlpoll, ping_atom, "ping")
  // service -> itself: time for the watchdog's check.
  CAF_ADD_ATOM(urlpoll, urlpoll, watchdog_atom, "watchdog")
  // A coordinator pair (history_db.hpp): the history tells main it leads,
  // or that it stands by; the monitor shows a standby's view and passes the
  // alert lease on to the alerters; the history's heartbeat.
  CAF_ADD_ATOM(urlpoll, urlpoll, lead_atom, "lead")
  CAF_ADD_ATOM(urlpoll, urlpoll, standby_atom, "standby")
  CAF_ADD_ATOM(urlpoll, urlpoll, lease_atom, "lease")
  CAF_ADD_ATOM(urlpoll, urlpoll, beat_atom, "beat")
CAF_END_TYPE_ID_BLOCK(urlpoll)
// clang-format on
