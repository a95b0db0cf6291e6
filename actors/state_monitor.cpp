#include "actors/state_monitor.hpp"

#include <algorithm>
#include <cctype>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/health.hpp"
#include "actors/history_model.hpp"

namespace urlpoll {

namespace {

caf::timestamp wall_now(const state_monitor_state& st) {
  return st.output.clock ? st.output.clock() : caf::make_timestamp();
}

// Target `i` as handed out: a copy, with its uptime at `now` (the basis
// from the history, and the open interval up to `now`).
target_status shown(const state_monitor_state& st, size_t i, int64_t now) {
  auto t = st.targets[i];
  t.uptime = uptime_now(st.bases[i], st.history[i], t.state, now);
  return t;
}

state_counts count_states(const std::vector<target_status>& targets) {
  state_counts n;
  n.targets = targets.size();
  for (auto& t : targets) {
    switch (t.state) {
    case target_state::up:
      ++n.up;
      break;
    case target_state::degraded:
      ++n.degraded;
      break;
    case target_state::down:
      ++n.down;
      break;
    default:
      ++n.unknown;
    }
    n.flapping += t.flapping ? 1 : 0;
  }
  return n;
}

// The snapshot without its targets.
snapshot make_head(const state_monitor_state& st) {
  auto nodes = st.nodes;
  for (auto& n : nodes)
    if (auto i = st.node_polls.find(n.name); i != st.node_polls.end())
      n.polls = i->second;
  snapshot x;
  x.time = wall_now(st);
  x.started = st.started;
  x.lateness = summarize(st.lateness);
  x.lateness_seconds = st.histogram;
  x.nodes = std::move(nodes);
  x.alerts = st.alerts;
  x.config = st.config;
  x.history = st.history_info;
  x.counts = count_states(st.targets);
  x.page.matched = st.targets.size();
  return x;
}

// Problems first: down, degraded, flapping, unknown, up.
int problem_rank(const target_status& t) {
  switch (t.state) {
  case target_state::down:
    return 0;
  case target_state::degraded:
    return 1;
  default:
    if (t.flapping)
      return 2;
    return t.state == target_state::unknown ? 3 : 4;
  }
}

bool matches(const target_status& t, const status_query& q) {
  auto& s = q.state;
  if (!s.empty()) {
    auto problem = t.state == target_state::down ||
                   t.state == target_state::degraded || t.flapping;
    if (s == "problems"   ? !problem
        : s == "not-up"   ? !problem && t.state == target_state::up
        : s == "flapping" ? !t.flapping
                          : s != to_string(t.state))
      return false;
  }
  if (q.text.empty())
    return true;
  auto& name = t.name.empty() ? t.url : t.name;
  auto lower = [](unsigned char c) {
    return std::tolower(c);
  };
  return std::search(name.begin(), name.end(), q.text.begin(), q.text.end(),
                     [&](char a, char b) { return lower(a) == lower(b); }) !=
         name.end();
}

// The targets of `ids` still watched, in that order.
snapshot make_slice(const state_monitor_state& st,
                    const std::vector<target_id>& ids) {
  snapshot x;
  x.time = wall_now(st);
  auto now = to_ms(x.time);
  x.targets.reserve(ids.size());
  for (auto id : ids)
    if (auto i = st.slot.find(id); i != st.slot.end())
      x.targets.push_back(shown(st, i->second, now));
  return x;
}

// One pass over the targets, however many match: a page of a million
// targets costs no sort and no copy beyond the page.
snapshot make_page(const state_monitor_state& st, const status_query& q) {
  if (!q.ids.empty())
    return make_slice(st, q.ids);
  auto x = make_head(st);
  auto first = q.offset;
  auto last = q.limit < 0 ? SIZE_MAX : q.offset + static_cast<size_t>(q.limit);
  // The page's slots, by problem rank when asked (each rank in
  // configuration order), else all in rank 0.
  std::vector<uint32_t> hits[5];
  size_t matched = 0;
  for (uint32_t i = 0; i < st.targets.size(); ++i) {
    auto& t = st.targets[i];
    if (!matches(t, q))
      continue;
    ++matched;
    auto& rank = hits[q.problems_first ? problem_rank(t) : 0];
    // No rank needs more than the page's end.
    if (rank.size() < last)
      rank.push_back(i);
  }
  x.page.matched = matched;
  x.page.offset = q.offset;
  x.page.limit = q.limit;
  auto now = to_ms(x.time);
  size_t k = 0;
  for (auto& rank : hits)
    for (auto i : rank) {
      if (k >= last)
        return x;
      if (k++ < first)
        continue;
      if (q.ids_only)
        x.ids.push_back(st.ids[i]);
      else
        x.targets.push_back(shown(st, i, now));
    }
  return x;
}

saved_state saved_of(const target_status& t) {
  saved_state x;
  x.name = t.name.empty() ? t.url : t.name;
  x.state = t.state;
  x.flapping = t.flapping;
  x.head_refused = t.head_refused;
  x.code = t.code;
  x.since = t.last_change;
  x.last_poll = t.last_poll;
  x.polls = t.polls;
  x.failures = t.failures;
  x.consecutive_failures = t.consecutive_failures;
  x.consecutive_successes = t.consecutive_successes;
  x.state_changes = t.state_changes;
  x.status = t.status;
  return x;
}

void resume_from(target_status& t, const saved_state& x) {
  t.resumed = true;
  t.state = x.state;
  t.flapping = x.flapping;
  t.head_refused = x.head_refused;
  if (x.head_refused)
    t.method = http_method::get;
  t.code = x.code;
  t.last_change = x.since;
  t.last_poll = x.last_poll;
  t.polls = x.polls;
  t.failures = x.failures;
  t.consecutive_failures = x.consecutive_failures;
  t.consecutive_successes = x.consecutive_successes;
  t.state_changes = x.state_changes;
  t.status = x.status;
}

using monitor_pointer =
  state_monitor_actor::stateful_pointer<state_monitor_state>;

// No targets at all: a standby's view goes, before another or the fleet's.
void forget_targets(state_monitor_state& st) {
  st.targets.clear();
  st.history.clear();
  st.bases.clear();
  st.rules.clear();
  st.ids.clear();
  st.slot.clear();
  st.unpolled = 0;
}

// A standby shows the targets as the leader last wrote them, read-only.
void show_standby(state_monitor_state& st, const standby_view& x) {
  st.history_info.leader = x.leader;
  st.history_info.leader_api = x.leader_api;
  forget_targets(st);
  st.targets.resize(x.states.size());
  st.history.resize(x.states.size());
  st.bases.resize(x.states.size());
  st.rules.resize(x.states.size(), 0);
  for (size_t i = 0; i < x.states.size(); ++i) {
    auto& t = st.targets[i];
    t.name = x.states[i].name;
    t.url = x.states[i].name;
    resume_from(t, x.states[i]);
    st.ids.push_back(static_cast<target_id>(i));
    st.slot.emplace(static_cast<target_id>(i), static_cast<uint32_t>(i));
  }
}

const std::string& display_name(const target_status& t) {
  return t.name.empty() ? t.url : t.name;
}

// For the history's next batch: a transition, and its target's open state.
void keep(state_monitor_state& st, const transition& change,
          const target_status* now) {
  if (!st.archive)
    return;
  st.batch.transitions.push_back(change);
  if (now)
    st.batch.states.push_back(saved_of(*now));
}

void publish(monitor_pointer self, const transition& change,
             const target_status* target) {
  auto& st = self->state;
  if (st.output.transition)
    st.output.transition(change);
  for (auto& a : st.subscribers)
    self->send(a, change);
  keep(st, change, target);
}

// The first result of a target resumed after a restart, when it changed
// nothing: the alerters hear that its state holds (what it resumed may have
// been stale), and tell their webhooks what differs from what they told.
// Not a transition: the events and the history get nothing.
void confirm(monitor_pointer self, const target_status& t,
             const poll_result& result) {
  transition same;
  same.time = result.time;
  same.target = display_name(t);
  same.from = t.state;
  same.to = t.state;
  same.flapping = t.flapping;
  same.status = t.status;
  same.code = t.code;
  same.latency = t.latency;
  same.node = t.node;
  same.views = t.views;
  for (auto& a : self->state.subscribers)
    self->send(a, same);
}

// A target that left the configuration: the events say so, an alerter
// resolves what it had open, the history ends its state.
void remove(monitor_pointer self, const transition& last) {
  auto& st = self->state;
  if (st.output.transition)
    st.output.transition(last);
  for (auto& a : st.subscribers)
    self->send(a, removed_atom_v, last.target);
  keep(st, last, nullptr);
}

// The transition of a target that starts over, or ends: back to unknown,
// with why. (health.cpp's flapping window restarts at such a transition.)
transition starting_over(caf::timestamp now, const target_status& t,
                         target_state from, std::string why) {
  transition result;
  result.time = now;
  result.target = display_name(t);
  result.from = from;
  result.to = target_state::unknown;
  result.status = std::move(why);
  return result;
}

void deliver_if_all_polled(state_monitor_state& st) {
  if (st.unpolled > 0 || st.awaiting_all_polled.empty())
    return;
  for (auto& promise : st.awaiting_all_polled)
    promise.deliver(make_head(st));
  st.awaiting_all_polled.clear();
}

// The history's batch of the last second, with the open state of every
// target polled in it (its counters: a crash loses at most this second of
// them); with `all`, every target's (at shutdown).
void send_batch(monitor_pointer self, bool all) {
  auto& st = self->state;
  if (!st.archive)
    return;
  auto& b = st.batch;
  if (all) {
    for (auto& t : st.targets)
      if (t.polls > 0)
        b.states.push_back(saved_of(t));
  } else {
    std::vector<target_id> polled;
    polled.reserve(b.samples.size());
    for (auto& x : b.samples)
      polled.push_back(x.id);
    std::sort(polled.begin(), polled.end());
    polled.erase(std::unique(polled.begin(), polled.end()), polled.end());
    for (auto id : polled)
      if (auto i = st.slot.find(id); i != st.slot.end())
        b.states.push_back(saved_of(st.targets[i->second]));
  }
  if (b.named.empty() && b.gone.empty() && b.samples.empty() &&
      b.transitions.empty() && b.states.empty() && b.alerts.empty())
    return;
  b.time = wall_now(st);
  self->send(st.archive, std::move(b));
  b = history_batch{};
}

// Takes over the targets the fleet says there are now: a known id keeps its
// status and history; a renewed id (its URL changed) takes over its old
// id's history; an id that is gone left the configuration.
void track(monitor_pointer self, monitor_targets next) {
  auto& st = self->state;
  auto n = next.targets.size();
  if (next.ids.empty())
    for (size_t i = 0; i < n; ++i)
      next.ids.push_back(static_cast<target_id>(i));
  std::vector<bool> kept(st.targets.size(), false);
  std::vector<target_status> targets(n);
  std::vector<std::vector<transition>> history(n);
  std::vector<uptime_basis> bases(n);
  std::vector<transition> replaced;
  std::unordered_map<target_id, uint32_t> slot;
  slot.reserve(n);
  auto now = wall_now(st);
  // What the history resumes, for the first targets after a restart.
  std::unordered_map<std::string,
                     std::pair<saved_state, std::vector<transition>>>
    resuming;
  if (st.resume) {
    for (auto& x : st.resume->states)
      resuming[x.name].first = x;
    for (auto& t : st.resume->recent)
      if (auto r = resuming.find(t.target); r != resuming.end())
        r->second.second.push_back(t);
    st.resume.reset();
  }
  for (size_t i = 0; i < n; ++i) {
    auto& fresh = next.targets[i];
    auto id = next.ids[i];
    slot.emplace(id, static_cast<uint32_t>(i));
    if (auto old = st.slot.find(id); old != st.slot.end()) {
      kept[old->second] = true;
      targets[i] = std::move(st.targets[old->second]);
      targets[i].method =
        targets[i].head_refused ? http_method::get : fresh.method;
      // Shown anew (show-query changed): the same target, its URL shown so.
      if (!fresh.url.empty())
        targets[i].url = std::move(fresh.url);
      history[i] = std::move(st.history[old->second]);
      bases[i] = st.bases[old->second];
      continue;
    }
    targets[i] = std::move(fresh);
    if (st.archive)
      st.batch.named.emplace_back(id, display_name(targets[i]));
    auto renewed = next.renewed.find(id);
    if (renewed == next.renewed.end()) {
      // Known to the history from before the restart: it goes on.
      if (auto r = resuming.find(display_name(targets[i]));
          r != resuming.end()) {
        resume_from(targets[i], r->second.first);
        history[i] = std::move(r->second.second);
        resuming.erase(r);
      }
      continue;
    }
    auto old = st.slot.find(renewed->second);
    if (old == st.slot.end())
      continue;
    // A new target under an old name, whose history says so in one
    // transition.
    kept[old->second] = true;
    auto& before = st.targets[old->second];
    history[i] = std::move(st.history[old->second]);
    bases[i] = st.bases[old->second];
    auto change = starting_over(now, targets[i], before.state,
                                "the URL changed to " + targets[i].url);
    if (history[i].size() >= transition_history)
      history[i].erase(history[i].begin());
    history[i].push_back(change);
    replaced.push_back(std::move(change));
  }
  for (size_t k = 0; k < kept.size(); ++k) {
    if (kept[k])
      continue;
    auto& gone = st.targets[k];
    remove(self, starting_over(now, gone, gone.state,
                               "removed from the configuration"));
    if (st.archive)
      st.batch.gone.push_back(st.ids[k]);
  }
  // Resumed from the history but no longer configured: they left while
  // urlpoll was stopped.
  for (auto& [name, x] : resuming) {
    target_status gone;
    gone.name = name;
    remove(self, starting_over(now, gone, x.first.state,
                               "removed from the configuration"));
  }
  st.targets = std::move(targets);
  st.history = std::move(history);
  st.bases = std::move(bases);
  st.ids = std::move(next.ids);
  st.slot = std::move(slot);
  st.rules = std::move(next.rules);
  st.rule_sets = std::move(next.rule_sets);
  if (st.rule_sets.empty())
    st.rule_sets.emplace_back();
  st.unpolled = static_cast<size_t>(
    std::count_if(st.targets.begin(), st.targets.end(),
                  [](const target_status& t) { return t.polls == 0; }));
  for (auto& change : replaced)
    publish(self, change, nullptr);
  // The history learns of new and gone targets at once, so that asking it
  // about them never finds nothing.
  if (!st.batch.named.empty() || !st.batch.gone.empty())
    send_batch(self, false);
  deliver_if_all_polled(st);
}

// Polls per node, counted from the results themselves: exact in every
// snapshot, where the dispatcher's reports come once a second.
void count_node_polls(state_monitor_state& st, const poll_result& result) {
  if (result.views.empty()) {
    if (!result.node.empty())
      ++st.node_polls[result.node];
    return;
  }
  for (auto& v : result.views)
    if (v.state != target_state::unknown)
      ++st.node_polls[v.node];
}

void record_lateness(state_monitor_state& st, caf::timespan x) {
  auto seconds = std::chrono::duration<double>(x).count();
  auto& bounds = lateness_buckets();
  auto bucket = static_cast<size_t>(
    std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
  ++st.histogram.counts[bucket];
  st.histogram.sum_seconds += seconds;
  ++st.histogram.count;
  if (st.lateness.size() < lateness_window) {
    st.lateness.push_back(x);
    return;
  }
  st.lateness[st.lateness_next] = x;
  st.lateness_next = (st.lateness_next + 1) % lateness_window;
}

} // namespace

bool valid_state_filter(const std::string& state) {
  for (auto x : {"", "up", "degraded", "down", "unknown", "flapping",
                 "problems", "not-up"})
    if (state == x)
      return true;
  return false;
}

lateness_summary summarize(std::vector<caf::timespan> samples) {
  lateness_summary result;
  result.samples = samples.size();
  if (samples.empty())
    return result;
  auto at = [&](double q) {
    auto i = static_cast<size_t>(q * static_cast<double>(samples.size() - 1));
    std::nth_element(samples.begin(), samples.begin() + i, samples.end());
    return samples[i];
  };
  result.p50 = at(0.50);
  result.p99 = at(0.99);
  result.max = *std::max_element(samples.begin(), samples.end());
  return result;
}

monitor_targets plain_targets(std::vector<std::string> urls) {
  monitor_targets result;
  result.targets.resize(urls.size());
  for (size_t i = 0; i < urls.size(); ++i)
    result.targets[i].url = std::move(urls[i]);
  return result;
}

state_monitor_actor::behavior_type state_monitor(monitor_pointer self,
                                                 monitor_targets what,
                                                 caf::timespan status_interval,
                                                 monitor_output output) {
  auto& st = self->state;
  st.output = std::move(output);
  st.started = wall_now(st);
  st.config.last_success = st.started;
  st.histogram.counts.assign(lateness_buckets().size() + 1, 0);
  st.status_interval = status_interval;
  track(self, std::move(what));
  if (status_interval.count() > 0)
    self->delayed_send(self, status_interval, print_atom_v);
  return {
    [=](polled_atom, target_id id, const poll_result& result) {
      auto& st = self->state;
      // A result of a target that left the configuration meanwhile.
      auto at = st.slot.find(id);
      if (at == st.slot.end())
        return;
      auto i = at->second;
      auto& target = st.targets[i];
      auto first_result = target.polls == 0;
      auto& rules = st.rule_sets[i < st.rules.size() ? st.rules[i] : 0];
      auto change = record(target, st.history[i], result, rules);
      auto verdict = classify(result);
      record_lateness(st, result.lateness);
      count_node_polls(st, result);
      if (first_result) {
        --st.unpolled;
        deliver_if_all_polled(st);
      }
      if (change && change->from != change->to)
        ++target.state_changes;
      if (change)
        publish(self, *change, &target);
      // A result that says something of the target (some node could poll).
      if (target.resumed && verdict != target_state::unknown) {
        if (!change)
          confirm(self, target, result);
        target.resumed = false;
      }
      if (st.archive)
        st.batch.samples.push_back(
          poll_sample{result.time, id,
                      static_cast<uint32_t>(std::min<int64_t>(
                        std::chrono::duration_cast<std::chrono::microseconds>(
                          result.latency)
                          .count(),
                        UINT32_MAX)),
                      verdict, result.code != 0});
      if (verdict == target_state::down && st.output.failure)
        st.output.failure(target);
    },
    [=](track_atom, monitor_targets& next) { track(self, std::move(next)); },
    [=](subscribe_atom, alerter_actor& a) {
      if (self->state.lease.bounded)
        self->send(a, lease_atom_v, self->state.lease);
      self->state.subscribers.push_back(std::move(a));
    },
    [=](lease_atom, const alert_lease& x) {
      auto& st = self->state;
      st.lease = x;
      for (auto& a : st.subscribers)
        self->send(a, lease_atom_v, x);
    },
    [=](standby_atom, standby_view& x) { show_standby(self->state, x); },
    [=](lead_atom) {
      // The leader's view goes; the fleet's targets come, with what the
      // history resumes.
      forget_targets(self->state);
    },
    [=](unsubscribe_atom, const alerter_actor& a) {
      auto& subs = self->state.subscribers;
      subs.erase(std::remove(subs.begin(), subs.end(), a), subs.end());
    },
    [=](configure_atom, caf::timespan interval) {
      auto& st = self->state;
      // A stopped clock starts again; a running one takes the new interval
      // from its next tick.
      if (st.status_interval.count() <= 0 && interval.count() > 0)
        self->delayed_send(self, interval, print_atom_v);
      st.status_interval = interval;
    },
    [=](reloaded_atom, reload_status& x) { self->state.config = std::move(x); },
    [=](resume_atom, history_actor& history,
        std::shared_ptr<const history_resume>& resume) {
      auto& st = self->state;
      auto first = !st.archive;
      st.archive = std::move(history);
      st.resume = std::move(resume);
      // Targets tracked before: the history hears of them now.
      for (size_t i = 0; i < st.targets.size(); ++i)
        st.batch.named.emplace_back(st.ids[i], display_name(st.targets[i]));
      if (first)
        self->delayed_send(self, std::chrono::seconds{1}, history_atom_v);
    },
    [=](history_atom) {
      send_batch(self, false);
      self->delayed_send(self, std::chrono::seconds{1}, history_atom_v);
    },
    [=](save_atom) {
      send_batch(self, true);
      return true;
    },
    [=](history_atom, history_status& x) {
      self->state.history_info = std::move(x);
    },
    [=](uptime_atom, uptime_update& x) {
      auto& st = self->state;
      for (auto& [id, basis] : x.bases)
        if (auto i = st.slot.find(id); i != st.slot.end())
          st.bases[i->second] = basis;
    },
    [=](caf::get_atom, const status_query& q) {
      return make_page(self->state, q);
    },
    [=](ping_atom) { return true; },
    [=](saved_alert& x) {
      // In the batch after the transition it was about: a crash never
      // keeps an alert without its cause.
      if (self->state.archive)
        self->state.batch.alerts.push_back(std::move(x));
    },
    [=](all_polled_atom) {
      auto promise = self->make_response_promise<snapshot>();
      self->state.awaiting_all_polled.push_back(promise);
      deliver_if_all_polled(self->state);
      return promise;
    },
    [=](nodes_atom, std::vector<node_status>& nodes) {
      self->state.nodes = std::move(nodes);
    },
    [=](caf::get_atom, const std::string& name) {
      auto& st = self->state;
      target_detail result;
      for (size_t i = 0; i < st.targets.size(); ++i) {
        auto& t = st.targets[i];
        if ((t.name.empty() ? t.url : t.name) == name) {
          result.found = true;
          result.status = shown(st, i, to_ms(wall_now(st)));
          result.transitions = st.history[i];
          break;
        }
      }
      return result;
    },
    [=](alerted_atom, const std::string& alerter, bool delivered) {
      auto& alerts = self->state.alerts;
      auto i = std::find_if(alerts.begin(), alerts.end(),
                            [&](auto& a) { return a.alerter == alerter; });
      if (i == alerts.end())
        i = alerts.insert(alerts.end(), alert_counter{alerter, 0, 0});
      ++(delivered ? i->delivered : i->failed);
    },
    [=](print_atom) {
      auto& st = self->state;
      if (st.status_interval.count() <= 0)
        return;
      if (st.output.status)
        st.output.status(make_head(st),
                         caf::actor_cast<state_monitor_actor>(self));
      self->delayed_send(self, st.status_interval, print_atom_v);
    },
  };
}

} // namespace urlpoll
