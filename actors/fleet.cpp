#include "actors/fleet.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/state_monitor.hpp"
#include "actors/target_url.hpp"

namespace urlpoll {

std::string identity(const fleet_target& x) {
  return x.name.empty() ? shown_url(x) : x.name;
}

std::string shown_url(const fleet_target& x) {
  return redact(x.url, x.rules && x.rules->show_query);
}

bool same_rules(const target_rules& x, const target_rules& y) {
  auto schedule = [](const poll_schedule& s) {
    return std::tie(s.interval, s.error_backoff, s.max_backoff,
                    s.retry_interval, s.timeout, s.fresh_connection, s.once);
  };
  return schedule(x.schedule) == schedule(y.schedule) && x.check == y.check;
}

namespace {

bool operator==(const state_rules& x, const state_rules& y) {
  return std::tie(x.failure_threshold, x.success_threshold, x.flap_threshold,
                  x.flap_window) == std::tie(y.failure_threshold,
                                             y.success_threshold,
                                             y.flap_threshold, y.flap_window);
}

using fleet_pointer = fleet_actor::stateful_pointer<fleet_state>;

const std::string&
url_of(const std::pair<const std::string, fleet_state::member>& x) {
  return x.second.url.empty() ? x.first : x.second.url;
}

void stop(fleet_pointer self, const fleet_state::member& m) {
  if (m.actor)
    self->send_exit(m.actor, caf::exit_reason::user_shutdown);
}

// Starts the resources of at most `most` new targets, in plan order; the
// rest after the other actors had a turn (start_atom to itself, a
// millisecond later). Each first
// poll keeps its place in the spread, counted from the plan's apply.
void start_some(fleet_pointer self, size_t most) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (size_t k = 0; k < most && !st.starting.empty(); ++k) {
    auto [node, offset] = st.starting.front();
    st.starting.pop_front();
    auto& m = node->second;
    auto first = std::max(caf::timespan{0}, st.spread_origin + offset - now);
    m.actor = self->system().spawn(resource, target{m.id, url_of(*node)},
                                   m.rules, first, st.peers);
  }
  // Through the clock: a message sent straight to itself would be taken
  // in the same turn (CAF's max-throughput is unbounded), and the
  // resources started would wait for all the others.
  if (!st.starting.empty() && most != SIZE_MAX)
    self->delayed_send(self, std::chrono::milliseconds{1}, start_atom_v);
}

fleet_change apply(fleet_pointer self, fleet_plan& plan) {
  auto& st = self->state;
  // What the last plan still had to start goes first.
  start_some(self, SIZE_MAX);
  fleet_change change;
  if (plan.state_rule_sets.empty())
    plan.state_rule_sets.emplace_back();
  auto n = plan.targets.size();
  monitor_targets watched;
  watched.targets.resize(n);
  watched.ids.resize(n);
  watched.rules.resize(n);
  watched.rule_sets = plan.state_rule_sets;
  std::unordered_map<std::string, fleet_state::member> next;
  next.reserve(n);
  // The targets to start: their place in the plan, and their member.
  std::vector<std::pair<size_t, fleet_state::node*>> starting;
  for (size_t i = 0; i < n; ++i) {
    auto& t = plan.targets[i];
    auto name = identity(t);
    auto& states = plan.state_rule_sets.at(t.state_rules);
    // The monitor keeps what it has of a known id: only a new one needs
    // its name and URL.
    auto& status = watched.targets[i];
    status.method = t.rules->check.method;
    watched.rules[i] = t.state_rules;
    auto old = st.targets.find(name);
    if (old != st.targets.end() && url_of(*old) == t.url) {
      // The node moves over as it is: no copy of its name or URL.
      auto node = st.targets.extract(old);
      auto& m = node.mapped();
      auto shown = m.rules->show_query != t.rules->show_query;
      auto polled = !same_rules(*m.rules, *t.rules) || !(m.states == states);
      // How it is shown changed: the monitor takes its URL anew.
      if (shown)
        status.url = shown_url(t);
      if (polled)
        self->send(m.actor, rules_atom_v, t.rules);
      ++(shown || polled ? change.changed : change.unchanged);
      m.rules = t.rules;
      m.states = states;
      watched.ids[i] = m.id;
      next.insert(std::move(node));
      continue;
    }
    fleet_state::member m;
    m.id = st.next_id++;
    if (old != st.targets.end()) {
      ++change.replaced;
      watched.renewed.emplace(m.id, old->second.id);
      stop(self, old->second);
      st.targets.erase(old);
    } else {
      ++change.added;
    }
    status.name = t.name;
    status.url = shown_url(t);
    if (t.url != name)
      m.url = t.url;
    m.rules = t.rules;
    m.states = states;
    watched.ids[i] = m.id;
    auto added = next.emplace(std::move(name), std::move(m)).first;
    starting.emplace_back(i, &*added);
  }
  for (auto& [name, m] : st.targets) {
    ++change.removed;
    stop(self, m);
  }
  st.targets = std::move(next);
  // The monitor knows every id before a new resource can poll.
  self->send(st.peers.monitor, track_atom_v, std::move(watched));
  st.spread_origin = self->clock().now();
  for (size_t k = 0; k < starting.size(); ++k) {
    auto& t = plan.targets[starting[k].first];
    // Never later than one of the target's own intervals.
    auto offset =
      start_offset(std::min(plan.start_spread, t.rules->schedule.interval), k,
                   starting.size());
    st.starting.emplace_back(starting[k].second, offset);
  }
  start_some(self, start_chunk);
  return change;
}

} // namespace

fleet_actor::behavior_type fleet(fleet_pointer self, resource_peers peers) {
  self->state.peers = std::move(peers);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    self->state.starting.clear();
    for (auto& [name, m] : self->state.targets)
      stop(self, m);
    self->state.targets.clear();
    self->quit(msg.reason);
  });
  return {
    [=](apply_atom, fleet_plan& plan) { return apply(self, plan); },
    [=](pollers_atom, poller_actor& pollers) {
      auto& st = self->state;
      st.peers.pollers = pollers;
      // Those still to start get them with st.peers.
      for (auto& [name, m] : st.targets)
        if (m.actor)
          self->send(m.actor, pollers_atom_v, pollers);
    },
    [=](start_atom) { start_some(self, start_chunk); },
  };
}

} // namespace urlpoll
