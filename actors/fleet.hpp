// fleet: the set of targets.
//
// Owns:     one resource actor per target, keyed by the target's name (its
//           redacted URL when it has none), with the URL and rules it was
//           given; the ids it gives out, each used once.
// Receives: (apply_atom, plan) from the reloader, at start-up and at every
//           reload: these are the targets now. Answers with what changed:
//           - same name, same URL, same rules: untouched (its actor, state
//             and schedule phase stay);
//           - same name and URL, other rules: its resource gets the new
//             rules (rules_atom); its state stays;
//           - same name, another URL: the old resource stops, a new one
//             with a new id starts (a new target under an old name);
//           - a name that is gone: its resource stops, a poll in flight is
//             abandoned;
//           - a new name: a new resource, the first polls of all new
//             targets spread over the plan's start spread.
//           (pollers_atom, pollers) from the reloader: every resource polls
//           through these from now on;
//           (start_atom) from itself: start the next chunk of new targets
//           (start_chunk at a time; a plan's apply starts what the last
//           one left first).
// Sends:    (track_atom, targets) to the state monitor, in configuration
//           order with their ids, before any new resource can poll;
//           (rules_atom, rules) and (pollers_atom, pollers) to resources.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>

#include "actors/health.hpp"
#include "actors/interfaces.hpp"
#include "actors/resource.hpp"

namespace urlpoll {

/// One target as configured.
struct fleet_target {
  /// As configured; empty for a plain URL (named by its redacted URL).
  std::string name;
  /// As configured, credentials included.
  std::string url;
  /// Shared by every target configured alike.
  std::shared_ptr<const target_rules> rules;
  /// Its index in fleet_plan::state_rule_sets.
  uint32_t state_rules = 0;
};

/// The targets after a reload, in configuration order.
struct fleet_plan {
  std::vector<fleet_target> targets;
  /// How each target's state follows its results; empty: the defaults.
  std::vector<state_rules> state_rule_sets;
  /// The first polls of the targets this plan adds spread over this much
  /// (never more than a target's own interval).
  caf::timespan start_spread{0};
};

/// How many new resources the fleet starts before the other actors get a
/// turn.
constexpr size_t start_chunk = 1000;

/// What a target is called: its name, or its URL as shown.
std::string identity(const fleet_target& x);

/// How a target's URL is shown: redacted, with its query values unless its
/// rules say show-query.
std::string shown_url(const fleet_target& x);

/// Whether two sets of rules poll alike.
bool same_rules(const target_rules& x, const target_rules& y);

struct fleet_state {
  struct member {
    target_id id = 0;
    /// Empty when it is the name itself (a plain URL without a password):
    /// 100,000 targets are 100,000 URLs fewer.
    std::string url;
    std::shared_ptr<const target_rules> rules;
    state_rules states;
    resource_actor actor;
  };
  std::unordered_map<std::string, member> targets;
  /// One target of `targets`: a node of the map, which stays where it is
  /// when the map rehashes or moves.
  using node = std::pair<const std::string, member>;
  /// New targets whose resource is not started yet, with their place in
  /// the start spread, counted from spread_origin: a million resources
  /// start a chunk at a time, so that the first polls begin at once and
  /// the resources already started keep their schedule meanwhile.
  std::deque<std::pair<node*, caf::timespan>> starting;
  caf::actor_clock::time_point spread_origin;
  target_id next_id = 0;
  resource_peers peers;
  static inline const char* name = "fleet";
};

/// Starts with no targets: the first plan applied starts them all. Stops
/// every resource when it stops.
fleet_actor::behavior_type
fleet(fleet_actor::stateful_pointer<fleet_state> self, resource_peers peers);

} // namespace urlpoll
