#include "actors/state_monitor.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/health.hpp"

namespace urlpoll {

namespace {

snapshot make_snapshot(const state_monitor_state& st) {
  auto nodes = st.nodes;
  for (auto& n : nodes)
    if (auto i = st.node_polls.find(n.name); i != st.node_polls.end())
      n.polls = i->second;
  snapshot x;
  x.time = caf::make_timestamp();
  x.started = st.started;
  x.lateness = summarize(st.lateness);
  x.lateness_seconds = st.histogram;
  x.nodes = std::move(nodes);
  x.alerts = st.alerts;
  x.targets = st.targets;
  return x;
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

state_monitor_actor::behavior_type
state_monitor(state_monitor_actor::stateful_pointer<state_monitor_state> self,
              monitor_targets what, caf::timespan status_interval,
              monitor_output output) {
  auto& st = self->state;
  st.targets = std::move(what.targets);
  st.history.resize(st.targets.size());
  st.rules = std::move(what.rules);
  st.rule_sets = std::move(what.rule_sets);
  if (st.rule_sets.empty())
    st.rule_sets.emplace_back();
  st.unpolled = st.targets.size();
  st.started = caf::make_timestamp();
  st.histogram.counts.assign(lateness_buckets().size() + 1, 0);
  st.output = std::move(output);
  if (status_interval.count() > 0)
    self->delayed_send(self, status_interval, print_atom_v);
  return {
    [=](polled_atom, target_id id, const poll_result& result) {
      auto& st = self->state;
      if (id >= st.targets.size())
        return;
      auto& target = st.targets[id];
      auto first_result = target.polls == 0;
      auto& rules = st.rule_sets[id < st.rules.size() ? st.rules[id] : 0];
      auto change = record(target, st.history[id], result, rules);
      record_lateness(st, result.lateness);
      count_node_polls(st, result);
      if (first_result && --st.unpolled == 0) {
        for (auto& promise : st.awaiting_all_polled)
          promise.deliver(make_snapshot(st));
        st.awaiting_all_polled.clear();
      }
      if (change && change->from != change->to)
        ++target.state_changes;
      if (change && st.output.transition)
        st.output.transition(*change);
      if (classify(result) == target_state::down && st.output.failure)
        st.output.failure(target);
    },
    [=](caf::get_atom) { return make_snapshot(self->state); },
    [=](all_polled_atom) {
      auto promise = self->make_response_promise<snapshot>();
      if (self->state.unpolled == 0)
        promise.deliver(make_snapshot(self->state));
      else
        self->state.awaiting_all_polled.push_back(promise);
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
          result.status = t;
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
      if (self->state.output.status)
        self->state.output.status(make_snapshot(self->state));
      self->delayed_send(self, status_interval, print_atom_v);
    },
  };
}

} // namespace urlpoll
