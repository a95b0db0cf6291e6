#include "actors/history.hpp"

#include <algorithm>
#include <cstdlib>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/transfer_outcome.hpp"

namespace urlpoll {

namespace {

using history_pointer = history_actor::stateful_pointer<history_state>;

/// How often the history looks for uptime bases due (refresh_due).
constexpr auto refresh_every = std::chrono::seconds{1};
/// Bases computed again at most per look: the edge of a run slides out of
/// a window for every target at once, and the state monitor takes the
/// update between polls. (A late basis is still exact until the second
/// change after its start slides out.)
constexpr size_t max_refreshes = 100'000;
/// How often a failing database is complained about on stderr.
constexpr auto complain_every = std::chrono::minutes{1};
/// Finished hours kept in memory while the database fails: beyond this,
/// the oldest are dropped (and counted as write errors).
constexpr size_t max_pending_hours = 2'000'000;
constexpr size_t max_pending_transitions = 1'000'000;
/// Transitions each target keeps for its flapping window after a restart.
constexpr size_t resumed_transitions = 100;

int64_t now_ms() {
  return to_ms(caf::make_timestamp());
}

void say(history_pointer self, log_level level, const std::string& line) {
  if (self->state.printer)
    caf::anon_send(self->state.printer, log_line{level, line});
}

// Moves `w` on to `until` without counting the time between: the hour it
// counted is finished if `until` is in a later one.
void skip_until(history_state& st, history_state::watched& w, int64_t until) {
  if (until / ms_per_hour > w.hour) {
    if (!w.counting.empty())
      st.pending_hours.emplace_back(w.name, w.hour, std::move(w.counting));
    w.counting = aggregate{};
    w.dirty = false;
    w.hour = until / ms_per_hour;
  }
  w.mark = std::max(w.mark, until);
}

// Counts the time since `w.mark` in its state, hour by hour: each hour that
// ends on the way is finished and waits to be written.
void count_until(history_state& st, history_state::watched& w, int64_t until) {
  while (until >= (w.hour + 1) * ms_per_hour) {
    auto end = (w.hour + 1) * ms_per_hour;
    w.counting.spend(w.state, end - std::max(w.mark, w.hour * ms_per_hour));
    if (!w.counting.empty())
      st.pending_hours.emplace_back(w.name, w.hour, std::move(w.counting));
    w.counting = aggregate{};
    w.dirty = false;
    w.mark = std::max(w.mark, end);
    w.hour = until / ms_per_hour;
  }
  if (until > w.mark) {
    w.counting.spend(w.state, until - w.mark);
    w.mark = until;
    w.dirty = true;
  }
}

// The runs of the longest window, the current one until `now` included.
std::vector<run_span> runs_until(const history_state& st, int64_t now) {
  auto runs = st.runs;
  runs.push_back(run_span{st.started, now});
  return runs;
}

void complain(history_pointer self, const std::string& what) {
  auto& st = self->state;
  // A leader of a pair that cannot write now alerts no more: an alert it
  // could not record, the coordinator that leads next would send again.
  if (st.shared && st.leading && st.monitor)
    self->send(st.monitor, lease_atom_v,
               alert_lease{true, self->clock().now()});
  ++st.status.write_errors;
  ++st.errors_since_complaint;
  st.status.failing = true;
  st.status.last_error = what;
  auto now = self->clock().now();
  if (st.last_complaint && now - *st.last_complaint < complain_every)
    return;
  st.last_complaint = now;
  if (st.shared && !st.leading) {
    say(self, log_level::error,
        "urlpoll: history: this standby cannot reach " + st.db->path() + ": " +
          what + "; it cannot take over until it can");
    st.errors_since_complaint = 0;
    return;
  }
  // With a pair, no coordinator may alert without knowing it leads.
  auto going_on = st.shared ? "monitoring goes on, alerts wait until this "
                              "coordinator knows it still leads,"
                            : "monitoring and alerting go on,";
  say(self, log_level::error,
      "urlpoll: history: cannot write to " + st.db->path() + ": " + what +
        " (" + std::to_string(st.errors_since_complaint) +
        " failed writes since the last word); " + going_on +
        " and what is not written waits in memory (" +
        std::to_string(st.pending_transitions.size()) + " transitions, " +
        std::to_string(st.pending_hours.size()) +
        " hours) until the database works again");
  st.errors_since_complaint = 0;
}

// Bounds what waits in memory while the database fails.
void bound_pending(history_state& st) {
  auto drop = [&](auto& xs, size_t limit) {
    if (xs.size() <= limit)
      return;
    auto n = xs.size() - limit;
    xs.erase(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(n));
    st.status.write_errors += n;
  };
  drop(st.pending_hours, max_pending_hours);
  drop(st.pending_transitions, max_pending_transitions);
}

void report(history_pointer self);
void compute_bases(history_pointer self,
                   const std::vector<target_id>* only = nullptr);

// A leader that lost its lock: it neither writes nor alerts any more, and
// main makes it a standby.
void step_down(history_pointer self) {
  auto& st = self->state;
  if (!st.leading)
    return;
  st.leading = false;
  st.stepped_down = true;
  st.status.role = "standby";
  st.db->resign();
  say(self, log_level::warning,
      "urlpoll: history: this coordinator lost the lead (its session with " +
        st.db->path() +
        " ended, and another coordinator led meanwhile or holds the lock "
        "now): it stops polling and alerting and stands by");
  if (st.leadership)
    caf::anon_send(st.leadership, standby_atom_v);
}

// Whether this coordinator still leads: its session holds the lock, or
// took it back after the connection was lost while no one else led.
// Throws history_error when the database cannot tell.
bool still_leads(history_pointer self) {
  auto& st = self->state;
  if (!st.shared)
    return true;
  if (!st.leading)
    return false;
  if (st.db->leading())
    return true;
  if (st.db->try_lead() && st.db->newest_run() == st.run) {
    say(self, log_level::notice,
        "urlpoll: history: the connection to " + st.db->path() +
          " is back, and this coordinator leads on");
    return true;
  }
  step_down(self);
  return false;
}

// Writes what waits, and with `hours` the hours being counted, in one
// transaction. On a failure nothing is lost: it all waits for the next try.
bool write(history_pointer self, bool hours) {
  auto& st = self->state;
  if (!st.db)
    return false;
  auto began = std::chrono::steady_clock::now();
  auto& db = *st.db;
  std::unordered_map<std::string, int64_t> added;
  auto id_of = [&](const std::string& name) {
    if (auto i = st.ids.find(name); i != st.ids.end())
      return i->second;
    if (auto i = added.find(name); i != added.end())
      return i->second;
    auto id = db.target(name);
    added.emplace(name, id);
    return id;
  };
  try {
    if (!still_leads(self))
      return false;
    db.begin();
    for (auto& t : st.pending_transitions)
      db.add_transition(id_of(t.target), t);
    for (auto& [name, x] : st.pending_states)
      if (x)
        db.save_state(id_of(name), *x);
      else
        db.drop_state(id_of(name));
    for (auto& [x, open] : st.pending_alerts)
      if (x.target.empty())
        db.drop_alerts(x.alerter);
      else if (open)
        db.save_alert(id_of(x.target), x);
      else
        db.drop_alert(id_of(x.target), x.alerter);
    for (auto& [name, hour, a] : st.pending_hours)
      db.save_hour(id_of(name), hour, a, true);
    if (hours)
      for (auto& [id, w] : st.targets)
        if (w.dirty)
          db.save_hour(id_of(w.name), w.hour, w.counting, false);
    db.touch_run(st.run, now_ms());
    db.commit();
  } catch (const history_error& e) {
    db.rollback();
    bound_pending(st);
    complain(self, e.what());
    report(self);
    return false;
  }
  st.ids.merge(added);
  if (st.status.failing)
    say(self, log_level::notice,
        "urlpoll: history: writing to " + db.path() +
          " again; what waited in memory is written (" +
          std::to_string(st.pending_transitions.size()) + " transitions, " +
          std::to_string(st.pending_hours.size()) + " hours)");
  st.pending_transitions.clear();
  st.pending_states.clear();
  st.pending_alerts.clear();
  st.pending_hours.clear();
  if (st.status.failing) {
    st.status.failing = false;
    st.status.last_error.clear();
    st.errors_since_complaint = 0;
    report(self);
  }
  if (hours) {
    for (auto& [id, w] : st.targets)
      w.dirty = false;
    st.status.last_flush_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
        .count();
    ++st.status.flushes;
  }
  return true;
}

void report(history_pointer self) {
  auto& st = self->state;
  st.status.size_bytes = st.db ? st.db->size_bytes() : 0;
  st.status.pending = st.pending_transitions.size();
  if (st.monitor)
    self->send(st.monitor, history_atom_v, st.status);
}

// A wall clock step smaller than this is jitter, not a step.
constexpr int64_t clock_step_ms = 2000;

// The wall clock stepped (NTP, date -s), which the steady clock did not.
// Forward: each target counts up to where real time is, and the time skipped is
// a gap, as if urlpoll had been stopped (a run ends, a new one begins), never
// time in some state. Back: nothing is counted twice: each target counts
// again once the clock is past where it was.
void notice_clock(history_pointer self) {
  auto& st = self->state;
  auto wall = now_ms();
  auto steady = self->clock().now();
  auto seen = st.wall_seen;
  auto real = std::chrono::duration_cast<std::chrono::milliseconds>(
                steady - st.steady_seen)
                .count();
  st.wall_seen = wall;
  st.steady_seen = steady;
  if (seen == 0)
    return;
  auto step = (wall - seen) - real;
  if (std::abs(step) < clock_step_ms)
    return;
  auto by = duration_text(std::chrono::milliseconds{std::abs(step)});
  if (step < 0) {
    say(self, log_level::notice,
        "urlpoll: history: the system clock stepped back by " + by +
          "; no time is counted twice: uptime counts again once the clock "
          "is past where it was");
    compute_bases(self);
    return;
  }
  auto real_end = seen + real;
  for (auto& [id, w] : st.targets) {
    count_until(st, w, std::max(w.mark, real_end));
    skip_until(st, w, wall);
  }
  st.runs.push_back(run_span{st.started, real_end});
  st.started = wall;
  if (st.db && st.leading) {
    try {
      if (!still_leads(self))
        return;
      st.db->touch_run(st.run, real_end);
      st.run = st.db->begin_run(wall);
    } catch (const history_error& e) {
      complain(self, e.what());
    }
  }
  say(self, log_level::notice,
      "urlpoll: history: the system clock stepped forward by " + by +
        "; that time is a gap in the uptime (no data), not time in any "
        "state");
  // Every open interval begins again at the new run.
  compute_bases(self);
}

void flush(history_pointer self) {
  auto& st = self->state;
  auto now = now_ms();
  for (auto i = st.loaded_hours.begin(); i != st.loaded_hours.end();)
    i = i->second.first < now / ms_per_hour ? st.loaded_hours.erase(i)
                                            : std::next(i);
  for (auto& [id, w] : st.targets)
    count_until(st, w, now);
  write(self, true);
  report(self);
}

void housekeep(history_pointer self) {
  auto& st = self->state;
  try {
    if (!st.db || !still_leads(self))
      return;
  } catch (const history_error& e) {
    complain(self, e.what());
    return;
  }
  auto now = now_ms();
  auto hourly_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(st.options.hourly)
      .count();
  auto retention_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(st.options.retention)
      .count();
  // Whole days only: a day is rolled up once all its hours are old enough.
  auto before_hour = ((now - hourly_ms) / ms_per_day) * 24;
  try {
    st.db->begin();
    st.db->roll_up(before_hour);
    st.db->expire(now - retention_ms);
    st.db->commit();
  } catch (const history_error& e) {
    st.db->rollback();
    complain(self, e.what());
  }
  auto cutoff = now - longest_window_ms;
  auto& runs = st.runs;
  runs.erase(
    std::remove_if(runs.begin(), runs.end(),
                   [&](const run_span& r) { return r.to_ms < cutoff; }),
    runs.end());
}

// Where a target's open interval begins: at its last state change, or at
// the start of this run (what came before counts as the runs say).
int64_t open_of(const history_state& st, const history_state::watched& w) {
  return w.changes.empty() ? st.started
                           : std::max(w.changes.back().ms, st.started);
}

// Sends the state monitor the uptime basis of every target (or of `only`),
// and notes when each is due again.
void compute_bases(history_pointer self, const std::vector<target_id>* only) {
  auto& st = self->state;
  auto now = now_ms();
  auto runs = runs_until(st, now);
  uptime_update update;
  auto one = [&](target_id id, history_state::watched& w) {
    prune(w.changes, now - longest_window_ms);
    auto basis = basis_at(w.changes, runs, open_of(st, w), now);
    w.refresh = refresh_due(basis);
    if (w.refresh != INT64_MAX)
      st.refreshes.emplace(w.refresh, id);
    update.bases.emplace_back(id, basis);
  };
  if (only == nullptr)
    for (auto& [id, w] : st.targets)
      one(id, w);
  else
    for (auto id : *only)
      if (auto i = st.targets.find(id); i != st.targets.end())
        one(id, i->second);
  if (!update.bases.empty() && st.monitor)
    self->send(st.monitor, uptime_atom_v, std::move(update));
}

// The targets whose basis tells no further: a change (or a run's edge)
// slid past the start of one of their windows.
void refresh_bases(history_pointer self) {
  auto& st = self->state;
  auto now = now_ms();
  std::vector<target_id> due;
  auto& queue = st.refreshes;
  while (!queue.empty() && queue.top().first <= now &&
         due.size() < max_refreshes) {
    auto [when, id] = queue.top();
    queue.pop();
    auto i = st.targets.find(id);
    if (i == st.targets.end() || i->second.refresh != when)
      continue;
    i->second.refresh = INT64_MAX;
    due.push_back(id);
  }
  if (!due.empty())
    compute_bases(self, &due);
}

// A target the state monitor now watches: it takes its changes and its
// current hour as loaded at start, if any.
void watch(history_state& st, target_id id, std::string name) {
  auto now = now_ms();
  // A new id under a known name (its URL changed): the same history goes
  // on under the new id.
  if (auto old = st.by_name.find(name);
      old != st.by_name.end() && old->second != id) {
    auto node = st.targets.extract(old->second);
    node.key() = id;
    st.targets.insert(std::move(node));
    old->second = id;
    return;
  }
  auto& w = st.targets[id];
  w.name = std::move(name);
  w.hour = now / ms_per_hour;
  if (auto i = st.loaded_changes.find(w.name); i != st.loaded_changes.end()) {
    w.changes = std::move(i->second);
    st.loaded_changes.erase(i);
  }
  if (auto i = st.loaded_hours.find(w.name); i != st.loaded_hours.end()) {
    if (i->second.first == w.hour)
      w.counting = std::move(i->second.second);
    st.loaded_hours.erase(i);
  }
  w.state = w.changes.empty() ? target_state::unknown : w.changes.back().to;
  // Time counts from the start of this run on, never across a gap.
  w.mark = std::max(st.started, w.changes.empty() ? now : w.changes.back().ms);
  w.mark = std::min(w.mark, now);
  st.by_name[w.name] = id;
}

void take(history_pointer self, history_batch& batch) {
  auto& st = self->state;
  // New targets, and those whose state changed, have a new basis at once.
  std::vector<target_id> changed;
  for (auto& [id, name] : batch.named) {
    watch(st, id, std::move(name));
    changed.push_back(id);
  }
  for (auto& x : batch.samples) {
    auto i = st.targets.find(x.id);
    if (i == st.targets.end())
      continue;
    auto& w = i->second;
    count_until(st, w, std::max(w.mark, to_ms(x.time)));
    w.counting.add(x);
    w.dirty = true;
  }
  for (auto& t : batch.transitions) {
    auto ms = to_ms(t.time);
    if (auto id = st.by_name.find(t.target); id != st.by_name.end()) {
      auto& w = st.targets[id->second];
      count_until(st, w, std::max(w.mark, ms));
      w.state = t.to;
      if (t.from != t.to) {
        w.changes.push_back(state_change{ms, t.to});
        changed.push_back(id->second);
      }
    }
    st.pending_transitions.push_back(std::move(t));
  }
  if (!changed.empty())
    compute_bases(self, &changed);
  for (auto& x : batch.alerts) {
    auto open =
      x.told == target_state::down || x.told == target_state::degraded;
    st.pending_alerts.emplace_back(std::move(x), open);
  }
  for (auto& x : batch.states) {
    auto name = x.name;
    st.pending_states[name] = std::move(x);
  }
  for (auto id : batch.gone) {
    auto i = st.targets.find(id);
    if (i == st.targets.end())
      continue;
    auto& w = i->second;
    count_until(st, w, to_ms(batch.time));
    if (!w.counting.empty()) {
      st.loaded_hours[w.name] = std::make_pair(w.hour, w.counting);
      st.pending_hours.emplace_back(w.name, w.hour, std::move(w.counting));
    }
    st.pending_states[w.name] = std::nullopt;
    if (auto n = st.by_name.find(w.name);
        n != st.by_name.end() && n->second == id)
      st.by_name.erase(n);
    st.targets.erase(i);
  }
  write(self, false);
}

// The aggregates of target `name` in [from, to), per hour or per day: the
// database's, with the hours still in memory (finished but not written, and
// the one being counted) in place of what the database has of them.
std::vector<std::pair<int64_t, aggregate>> aggregates(history_pointer self,
                                                      const std::string& name,
                                                      int64_t from, int64_t to,
                                                      bool daily, int64_t now) {
  auto& st = self->state;
  // The hour being counted holds all of that hour (a removed target's count
  // taken back included); finished hours wait to be written.
  std::vector<std::pair<int64_t, aggregate>> in_memory;
  int64_t counting = -1;
  if (auto i = st.by_name.find(name); i != st.by_name.end()) {
    auto& w = st.targets[i->second];
    count_until(st, w, now);
    in_memory.emplace_back(w.hour, w.counting);
    counting = w.hour;
  }
  for (auto& [n, hour, a] : st.pending_hours)
    if (n == name && hour != counting)
      in_memory.emplace_back(hour, a);
  std::vector<int64_t> skip;
  for (auto& [hour, a] : in_memory)
    skip.push_back(hour);
  std::vector<std::pair<int64_t, aggregate>> points;
  if (auto id = st.ids.find(name); id != st.ids.end() && st.db) {
    try {
      points = st.db->points(id->second, from, to, daily, skip);
    } catch (const history_error& e) {
      say(self, log_level::error,
          std::string{"urlpoll: history: reading failed: "} + e.what());
    }
  }
  auto step = daily ? ms_per_day : ms_per_hour;
  for (auto& [hour, a] : in_memory) {
    auto start = (hour * ms_per_hour / step) * step;
    if (start + step <= from || start >= to || a.empty())
      continue;
    auto i = std::find_if(points.begin(), points.end(),
                          [&](auto& p) { return p.first == start; });
    if (i == points.end())
      points.emplace_back(start, a);
    else
      i->second.merge(a);
  }
  std::sort(points.begin(), points.end(),
            [](auto& x, auto& y) { return x.first < y.first; });
  return points;
}

history_answer ask(history_pointer self, const history_query& q) {
  auto& st = self->state;
  history_answer answer;
  auto from = to_ms(q.from);
  auto to = to_ms(q.to);
  auto now = now_ms();
  auto id = st.ids.find(q.target);
  auto watched = st.by_name.find(q.target);
  answer.found = id != st.ids.end() || watched != st.by_name.end();
  if (!answer.found)
    return answer;
  for (auto& [start, a] : aggregates(self, q.target, from, to, q.daily, now))
    answer.points.push_back(a.point(from_ms(start)));
  // Uptime by time over [from, to): the changes and runs written, with the
  // current run and the changes still in memory.
  std::vector<state_change> changes;
  std::vector<run_span> runs;
  if (id != st.ids.end() && st.db) {
    try {
      changes = st.db->changes(id->second, from, to);
      for (auto& r : st.db->runs_since(from))
        if (r.from_ms != st.started)
          runs.push_back(r);
    } catch (const history_error& e) {
      say(self, log_level::error,
          std::string{"urlpoll: history: reading failed: "} + e.what());
    }
  }
  runs.push_back(run_span{st.started, now});
  for (auto& t : st.pending_transitions) {
    auto ms = to_ms(t.time);
    if (t.target == q.target && ms < to && t.from != t.to &&
        (changes.empty() || ms > changes.back().ms))
      changes.push_back(state_change{ms, t.to});
  }
  answer.uptime = time_up(changes, runs, from, std::min(to, now)).ratio();
  return answer;
}

// The hours the last run counted in, with their time in each state told
// again by the transitions and runs kept. A crash (kill -9) leaves an hour
// being counted as last flushed (and the time since an hour began unwritten)
// while the transitions and the run reach the last second before it: now the
// hour and day bars agree with the transitions. After a clean stop only
// rounding differs, and nothing is written. Throws history_error.
void rebuild_hours(history_state& st,
                   const std::unordered_map<int64_t, std::string>& names,
                   int64_t last_seen, int64_t now) {
  auto& db = *st.db;
  auto last_hour = last_seen / ms_per_hour;
  // The changes and runs loaded reach back this far.
  auto first_hour = (now - longest_window_ms) / ms_per_hour + 1;
  if (last_seen <= 0 || last_hour < first_hour)
    return;
  std::vector<std::tuple<int64_t, int64_t, aggregate>> rows;
  db.counting_rows([&](int64_t id, int64_t hour, aggregate a) {
    rows.emplace_back(id, hour, std::move(a));
  });
  std::unordered_map<int64_t, int64_t> counting;
  for (auto& [id, hour, a] : rows)
    counting.emplace(id, hour);
  // Targets without the last run's last hour being counted: it began after
  // the last flush, or they left within it (then it is finished).
  auto finished = db.finished_targets(last_hour);
  std::sort(finished.begin(), finished.end());
  for (auto& [name, changes] : st.loaded_changes) {
    auto id = st.ids.find(name);
    if (id == st.ids.end() ||
        std::binary_search(finished.begin(), finished.end(), id->second))
      continue;
    if (auto c = counting.find(id->second);
        c == counting.end() || c->second != last_hour)
      rows.emplace_back(id->second, last_hour, aggregate{});
  }
  static const std::vector<state_change> none;
  auto seconds = [](int64_t ms) {
    return (ms + 500) / 1000;
  };
  auto current = now / ms_per_hour;
  std::vector<std::tuple<int64_t, int64_t, aggregate>> rebuilt;
  for (auto& [id, hour, a] : rows) {
    auto name = names.find(id);
    if (name == names.end() || hour < first_hour)
      continue;
    auto c = st.loaded_changes.find(name->second);
    auto t = time_spent(c == st.loaded_changes.end() ? none : c->second,
                        st.runs, hour * ms_per_hour, (hour + 1) * ms_per_hour);
    if (seconds(t.up_ms) == seconds(a.up_ms) &&
        seconds(t.degraded_ms) == seconds(a.degraded_ms) &&
        seconds(t.down_ms) == seconds(a.down_ms))
      continue;
    a.up_ms = t.up_ms;
    a.degraded_ms = t.degraded_ms;
    a.down_ms = t.down_ms;
    rebuilt.emplace_back(id, hour, std::move(a));
  }
  if (rebuilt.empty())
    return;
  try {
    db.begin();
    for (auto& [id, hour, a] : rebuilt)
      db.save_hour(id, hour, a, hour < current);
    db.commit();
  } catch (const history_error&) {
    db.rollback();
    throw;
  }
}

// Loads what a restart resumes and begins a run: how a leader starts (at
// start-up, or taking over from another). Throws history_error.
std::shared_ptr<history_resume> lead(history_pointer self) {
  auto& st = self->state;
  auto resume = std::make_shared<history_resume>();
  auto& db = *st.db;
  auto now = now_ms();
  st.started = now;
  resume->last_seen = from_ms(db.last_seen());
  st.runs = db.runs_since(now - longest_window_ms);
  st.ids = db.targets();
  resume->states = db.open_states();
  resume->alerts = db.open_alerts();
  auto window =
    std::chrono::duration_cast<std::chrono::milliseconds>(st.flap_window)
      .count();
  resume->recent = db.transitions_since(now - window, resumed_transitions);
  std::unordered_map<int64_t, std::string> names;
  for (auto& [name, id] : st.ids)
    names.emplace(id, name);
  st.loaded_changes.clear();
  db.changes_since(now - longest_window_ms, [&](int64_t id, state_change c) {
    if (auto i = names.find(id); i != names.end())
      st.loaded_changes[i->second].push_back(c);
  });
  for (auto& [name, changes] : st.loaded_changes)
    std::stable_sort(changes.begin(), changes.end(),
                     [](auto& x, auto& y) { return x.ms < y.ms; });
  rebuild_hours(st, names, to_ms(resume->last_seen), now);
  auto hour = now / ms_per_hour;
  st.loaded_hours.clear();
  db.hour_rows(hour, [&](int64_t id, aggregate a) {
    if (auto i = names.find(id); i != names.end())
      st.loaded_hours.emplace(i->second, std::make_pair(hour, std::move(a)));
  });
  st.run = db.begin_run(now);
  st.wall_seen = now;
  st.steady_seen = self->clock().now();
  st.leading = true;
  if (st.shared)
    st.status.role = "leader";
  return resume;
}

history_opened open(history_pointer self, const std::string& path) {
  auto& st = self->state;
  history_opened result;
  try {
    st.db = std::make_unique<history_store>(path, lease_ms(st.options));
    st.shared = st.db->shared();
    st.status.enabled = true;
    st.status.path = st.db->path();
    if (!st.db->try_lead()) {
      st.status.role = "standby";
      result.standby = true;
      return result;
    }
    result.resume = lead(self);
  } catch (const history_error& e) {
    st.db.reset();
    st.shared = false;
    st.leading = false;
    result.problem = e.what();
  }
  return result;
}

// The leader's rounds: hours and open states, uptime, housekeeping.
void start_rounds(history_pointer self) {
  housekeep(self);
  self->delayed_send(self, self->state.options.flush, flush_atom_v);
  self->delayed_send(self, refresh_every, uptime_atom_v);
  self->delayed_send(self, std::chrono::hours{1}, housekeep_atom_v);
}

// A coordinator of a pair says it lives; a leader renews its alert lease, a
// standby takes over when the lock is free or else shows what the leader
// wrote.
void beat(history_pointer self) {
  auto& st = self->state;
  if (!st.db || st.stepped_down)
    return;
  auto sent = self->clock().now();
  auto lease = std::chrono::milliseconds{lease_ms(st.options)};
  try {
    auto view =
      st.db->heartbeat(st.options.node, st.options.api, lease_ms(st.options));
    st.status.leader = view.leader;
    st.status.leader_api = view.leader_api;
    if (st.leading) {
      if (!still_leads(self))
        return;
      // The server ends this session no sooner than `lease` after this
      // beat was sent: until then no standby can lead. Always bounded,
      // even with no standby in sight: one may have started a moment
      // before this leader hung, and lead before it wakes.
      st.renewed = sent;
      if (st.monitor)
        self->send(st.monitor, lease_atom_v, alert_lease{true, sent + lease});
    } else if (st.db->try_lead()) {
      auto resume = lead(self);
      start_rounds(self);
      say(self, log_level::notice,
          "urlpoll: history: this coordinator leads now" +
            (view.leader.empty() || view.leader == st.options.node
               ? std::string{}
               : " (" + view.leader + " led before)") +
            "; it polls and alerts from what " + st.db->path() + " kept");
      if (st.leadership)
        caf::anon_send(st.leadership, lead_atom_v,
                       std::shared_ptr<const history_resume>{resume});
      else
        st.untold = std::move(resume);
    } else if (st.monitor &&
               (!st.viewed || sent - *st.viewed >= std::chrono::seconds{1})) {
      st.viewed = sent;
      // The history API of a standby answers from the database too; the
      // leader's run there covers the time up to its last second, not one
      // of this standby's own.
      st.ids = st.db->targets();
      st.started = now_ms();
      self->send(
        st.monitor, standby_atom_v,
        standby_view{view.leader, view.leader_api, st.db->open_states()});
    }
  } catch (const history_error& e) {
    complain(self, e.what());
  }
  report(self);
}

history_actor::behavior_type history(history_pointer self, std::string path,
                                     history_options options,
                                     caf::actor printer) {
  auto& st = self->state;
  st.options = options;
  st.printer = std::move(printer);
  return {
    [=](start_atom, caf::timespan flap_window) {
      self->state.flap_window = flap_window;
      auto result = open(self, path);
      if (self->state.leading)
        start_rounds(self);
      if (self->state.shared)
        self->send(self, beat_atom_v);
      return result;
    },
    [=](lead_atom, caf::actor& main) {
      auto& st = self->state;
      st.leadership = main;
      if (st.untold)
        caf::anon_send(main, lead_atom_v, std::move(st.untold));
    },
    [=](beat_atom) {
      beat(self);
      self->delayed_send(self, self->state.options.takeover / 10, beat_atom_v);
    },
    [=](subscribe_atom, caf::actor& monitor) {
      auto& st = self->state;
      st.monitor = caf::actor_cast<state_monitor_actor>(monitor);
      // The lease of the heartbeat at start, without waiting for the next.
      if (st.shared && st.leading && st.renewed)
        self->send(st.monitor, lease_atom_v,
                   alert_lease{true, *st.renewed + std::chrono::milliseconds{
                                                     lease_ms(st.options)}});
      compute_bases(self);
      report(self);
    },
    [=](history_batch& batch) {
      notice_clock(self);
      take(self, batch);
    },
    [=](flush_atom) {
      notice_clock(self);
      flush(self);
      self->delayed_send(self, self->state.options.flush, flush_atom_v);
    },
    [=](uptime_atom) {
      notice_clock(self);
      refresh_bases(self);
      self->delayed_send(self, refresh_every, uptime_atom_v);
    },
    [=](housekeep_atom) {
      housekeep(self);
      self->delayed_send(self, std::chrono::hours{1}, housekeep_atom_v);
    },
    [=](save_atom) {
      flush(self);
      return !self->state.status.failing;
    },
    [=](configure_atom, history_options& x) { self->state.options = x; },
    [=](caf::get_atom, const history_query& q) { return ask(self, q); },
    [=](transitions_atom, const history_query& q) {
      auto& st = self->state;
      history_answer answer;
      auto from = to_ms(q.from);
      auto to = to_ms(q.to);
      auto id = st.ids.find(q.target);
      answer.found = id != st.ids.end() || st.by_name.count(q.target) > 0;
      // Newest first: what waits in memory is newer than what is written.
      for (auto i = st.pending_transitions.rbegin();
           i != st.pending_transitions.rend() &&
           answer.transitions.size() < q.limit;
           ++i) {
        auto ms = to_ms(i->time);
        if (i->target == q.target && ms >= from && ms < to)
          answer.transitions.push_back(*i);
      }
      if (id != st.ids.end() && st.db && answer.transitions.size() < q.limit) {
        try {
          auto more = st.db->transitions(id->second, q.target, from, to,
                                         q.limit - answer.transitions.size());
          answer.transitions.insert(answer.transitions.end(), more.begin(),
                                    more.end());
        } catch (const history_error& e) {
          say(self, log_level::error,
              std::string{"urlpoll: history: reading failed: "} + e.what());
        }
      }
      return answer;
    },
    [=](daily_atom, const daily_query& q) {
      daily_answer answer;
      auto now = now_ms();
      auto first = now / ms_per_day - static_cast<int64_t>(q.days) + 1;
      for (auto& name : q.targets) {
        std::vector<aggregate> days(q.days);
        for (auto& [start, a] :
             aggregates(self, name, first * ms_per_day, now + 1, true, now)) {
          auto d = start / ms_per_day - first;
          if (d >= 0 && d < static_cast<int64_t>(q.days))
            days[static_cast<size_t>(d)] = std::move(a);
        }
        std::vector<float> ratios;
        ratios.reserve(days.size());
        for (auto& d : days)
          ratios.push_back(static_cast<float>(d.uptime()));
        answer.days.push_back(std::move(ratios));
      }
      return answer;
    },
  };
}

} // namespace

int64_t lease_ms(const history_options& x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x.takeover)
           .count() *
         2 / 5;
}

history_actor spawn_history(caf::actor_system& sys, std::string path,
                            history_options options, caf::actor printer) {
  return sys.spawn<caf::detached>(history, std::move(path), options,
                                  std::move(printer));
}

} // namespace urlpoll
