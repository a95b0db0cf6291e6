// The typed interfaces of urlpoll's actors, in one place: who accepts which
// messages. Each actor's own header says what it owns and what it sends.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/history.hpp"
#include "messages/messages.hpp"

namespace urlpoll {

struct target_rules;
struct monitor_targets;
struct alert_rule;
struct history_opened;
struct history_options;
struct status_query;

/// The history: the sole owner of the history database.
using history_actor = caf::typed_actor<
  caf::replies_to<start_atom, caf::timespan>::with<history_opened>,
  caf::reacts_to<history_batch>,
  caf::replies_to<caf::get_atom, history_query>::with<history_answer>,
  caf::replies_to<transitions_atom, history_query>::with<history_answer>,
  caf::replies_to<daily_atom, daily_query>::with<daily_answer>,
  caf::replies_to<save_atom>::with<bool>, caf::reacts_to<flush_atom>,
  caf::reacts_to<uptime_atom>, caf::reacts_to<housekeep_atom>,
  caf::reacts_to<configure_atom, history_options>,
  caf::reacts_to<subscribe_atom, caf::actor>,
  caf::reacts_to<lead_atom, caf::actor>, caf::reacts_to<beat_atom>>;

/// A poller, or the pool in front of the pollers: polls a target once.
using poller_actor =
  caf::typed_actor<caf::replies_to<poll_atom, poll_request>::with<poll_result>>;

/// A worker node's published actor: polls like a pool and says its name.
using worker_actor =
  poller_actor::extend<caf::replies_to<hello_atom>::with<std::string>>;

/// A coordinator's dispatcher: a poller pool to the resources, in front of
/// the worker nodes and the local pollers.
using dispatcher_actor =
  poller_actor::extend<caf::reacts_to<reconnect_atom, uint32_t>,
                       caf::replies_to<ready_atom>::with<bool>,
                       caf::reacts_to<report_atom>,
                       caf::reacts_to<retire_atom>>;

/// A resource: told by the timer wheel when its next poll is due, and by
/// the fleet when its rules or the pollers change.
using resource_actor = caf::typed_actor<
  caf::reacts_to<due_atom>,
  caf::reacts_to<rules_atom, std::shared_ptr<const target_rules>>,
  caf::reacts_to<pollers_atom, poller_actor>>;

/// The timer wheel: wakes resources at the time they ask for, in batches.
using timer_wheel_actor = caf::typed_actor<
  caf::reacts_to<wake_atom, caf::actor_clock::time_point, resource_actor>,
  caf::reacts_to<tick_atom>>;

/// An alerter: tells a webhook about transitions.
using alerter_actor =
  caf::typed_actor<caf::reacts_to<transition>, caf::reacts_to<remind_atom>,
                   caf::reacts_to<lease_atom, alert_lease>,
                   caf::reacts_to<removed_atom, std::string>,
                   caf::reacts_to<configure_atom, alert_rule>>;

/// The state monitor: the status map's owner.
using state_monitor_actor = caf::typed_actor<
  caf::reacts_to<polled_atom, target_id, poll_result>,
  caf::replies_to<all_polled_atom>::with<snapshot>, caf::reacts_to<print_atom>,
  caf::reacts_to<nodes_atom, std::vector<node_status>>,
  caf::replies_to<caf::get_atom, std::string>::with<target_detail>,
  caf::reacts_to<alerted_atom, std::string, bool>,
  caf::reacts_to<track_atom, monitor_targets>,
  caf::reacts_to<subscribe_atom, alerter_actor>,
  caf::reacts_to<unsubscribe_atom, alerter_actor>,
  caf::reacts_to<configure_atom, caf::timespan>,
  caf::reacts_to<reloaded_atom, reload_status>,
  caf::reacts_to<resume_atom, history_actor,
                 std::shared_ptr<const history_resume>>,
  caf::reacts_to<history_atom>, caf::reacts_to<history_atom, history_status>,
  caf::reacts_to<uptime_atom, uptime_update>, caf::reacts_to<saved_alert>,
  caf::replies_to<save_atom>::with<bool>,
  caf::replies_to<caf::get_atom, status_query>::with<snapshot>,
  caf::replies_to<ping_atom>::with<bool>,
  caf::reacts_to<standby_atom, standby_view>, caf::reacts_to<lead_atom>,
  caf::reacts_to<lease_atom, alert_lease>>;

/// The fleet: the set of resource actors, keyed by target name.
struct fleet_plan;
using fleet_actor =
  caf::typed_actor<caf::replies_to<apply_atom, fleet_plan>::with<fleet_change>,
                   caf::reacts_to<pollers_atom, poller_actor>,
                   caf::reacts_to<start_atom>>;

} // namespace urlpoll

// Local only: these never cross a node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const urlpoll::target_rules>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::monitor_targets)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::fleet_plan)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::alert_rule)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::history_opened)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::history_options)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::status_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::history_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::saved_alert)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::history_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::daily_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::daily_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const urlpoll::history_resume>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::history_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::uptime_update)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::standby_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::alert_lease)
