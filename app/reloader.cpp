#include "app/reloader.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/alerter.hpp"
#include "actors/dispatcher.hpp"
#include "actors/poller.hpp"
#include "actors/transfer_outcome.hpp"
#include "app/report.hpp"

namespace urlpoll {

poll_path spawn_poll_path(caf::actor_system& sys, const settings& cfg,
                          const state_monitor_actor& monitor) {
  poll_path result;
  auto coordinator = cfg.role == node_role::coordinator;
  if (!coordinator || cfg.local_pollers)
    result.local = spawn_pollers(sys, cfg.pollers, cfg.max_in_flight,
                                 coordinator ? cfg.node_name : std::string{});
  result.pollers = result.local;
  if (coordinator) {
    dispatcher_config dc;
    dc.mode = cfg.dispatch;
    dc.quorum = cfg.quorum;
    dc.lost_node_expiry = cfg.lost_node_expiry;
    dc.workers = cfg.workers;
    if (result.local)
      dc.local.emplace_back(cfg.node_name, result.local);
    dc.tls = cfg.tls;
    dc.monitor = monitor;
    result.nodes = sys.spawn(dispatcher, std::move(dc));
    result.pollers = caf::actor_cast<poller_actor>(result.nodes);
  }
  return result;
}

void stop(const poll_path& x) {
  if (x.nodes)
    caf::anon_send_exit(x.nodes, caf::exit_reason::user_shutdown);
  if (x.local)
    caf::anon_send_exit(x.local, caf::exit_reason::user_shutdown);
}

std::vector<std::string> watched_files(const settings& cfg) {
  if (!cfg.watch_config || cfg.once)
    return {};
  return {cfg.config_file, cfg.url_file};
}

std::string to_json(const reload_report& x) {
  auto took = std::chrono::duration<double, std::milli>(x.took).count();
  nlohmann::ordered_json doc{
    {"status", x.ok ? "ok" : "error"},
    {"trigger", x.trigger},
    {"time", rfc3339(x.time)},
  };
  if (x.ok) {
    doc["took_ms"] = std::round(took * 10) / 10;
    doc["targets"] = x.target_count;
    doc["alerts"] = x.alert_count;
    doc["added"] = x.targets.added;
    doc["changed"] = x.targets.changed;
    doc["url_changed"] = x.targets.replaced;
    doc["removed"] = x.targets.removed;
    doc["unchanged"] = x.targets.unchanged;
    doc["needs_restart"] = x.needs_restart;
  } else {
    doc["errors"] = x.errors;
  }
  return doc.dump() + "\n";
}

namespace {

// "1 target", "2 targets".
std::string count(uint32_t n, const std::string& thing) {
  return std::to_string(n) + " " + thing + (n == 1 ? "" : "s");
}

} // namespace

std::string reload_line(const reload_report& x) {
  if (x.trigger == "start-up" && x.ok)
    return "urlpoll: monitoring " + count(x.target_count, "target") + " with " +
           count(x.alert_count, "alert");
  std::string out = "urlpoll: configuration reload (" + x.trigger + ")";
  if (!x.ok) {
    out += " refused, the running configuration stays; " +
           std::to_string(x.errors.size()) + " error" +
           (x.errors.size() == 1 ? "" : "s") + ":";
    for (auto& e : x.errors)
      out += "\nurlpoll: configuration error: " + e;
    return out;
  }
  auto& t = x.targets;
  out += " applied in " + duration_text(x.took) + ": " +
         count(x.target_count, "target") + " (" + std::to_string(t.added) +
         " added, " + std::to_string(t.changed) + " changed, " +
         std::to_string(t.replaced) + " with a new URL, " +
         std::to_string(t.removed) + " removed, " +
         std::to_string(t.unchanged) + " unchanged), " +
         count(x.alert_count, "alert");
  for (auto& key : x.needs_restart)
    out += "\nurlpoll: " + key +
           " changed, which needs a restart: the "
           "running value stays until then";
  return out;
}

namespace {

using reloader_pointer = reloader_actor::stateful_pointer<reloader_state>;

/// How long the polls of a poll path that was replaced may still take.
constexpr auto drain_grace = std::chrono::seconds{10};

bool same_alert(const alert_rule& x, const alert_rule& y) {
  return std::tie(x.name, x.url, x.on, x.repeat_interval, x.slack, x.timeout,
                  x.max_attempts) == std::tie(y.name, y.url, y.on,
                                              y.repeat_interval, y.slack,
                                              y.timeout, y.max_attempts);
}

std::string addresses(const std::vector<worker_address>& xs) {
  std::string out;
  for (auto& x : xs)
    out += to_string(x) + " ";
  return out;
}

std::string address(const std::optional<worker_address>& x) {
  return x ? to_string(*x) : std::string{};
}

void log(reloader_pointer self, log_level level, const std::string& line) {
  caf::anon_send(self->state.parts.printer, log_line{level, line});
}

// The settings only a restart applies: named in the answer, and left as they
// run.
std::vector<std::string> keep_restart_only(const settings& running,
                                           settings& next) {
  std::vector<std::string> changed;
  auto keep = [&](const char* key, bool differs, auto& field,
                  const auto& value) {
    if (!differs)
      return;
    changed.push_back(key);
    field = value;
  };
  keep("urlpoll.role", running.role != next.role, next.role, running.role);
  keep("urlpoll.listen", to_string(running.listen) != to_string(next.listen),
       next.listen, running.listen);
  keep("urlpoll.http-listen",
       address(running.http_listen) != address(next.http_listen),
       next.http_listen, running.http_listen);
  keep("urlpoll.http-token", running.http_token != next.http_token,
       next.http_token, running.http_token);
  keep("urlpoll.metrics-per-target",
       running.metrics_per_target != next.metrics_per_target,
       next.metrics_per_target, running.metrics_per_target);
  keep("openssl.certificate, openssl.key, openssl.cafile",
       running.tls_files != next.tls_files, next.tls_files, running.tls_files);
  next.tls = running.tls;
  keep("urlpoll.timer-resolution",
       running.timer_resolution != next.timer_resolution, next.timer_resolution,
       running.timer_resolution);
  keep("urlpoll.once", running.once != next.once, next.once, running.once);
  keep("urlpoll.history", running.history != next.history, next.history,
       running.history);
  return changed;
}

bool same_poll_path(const settings& x, const settings& y) {
  if (x.pollers != y.pollers || x.max_in_flight != y.max_in_flight)
    return false;
  if (x.role != node_role::coordinator)
    return true;
  return x.node_name == y.node_name && x.local_pollers == y.local_pollers &&
         x.dispatch == y.dispatch && x.quorum == y.quorum &&
         x.lost_node_expiry == y.lost_node_expiry &&
         addresses(x.workers) == addresses(y.workers);
}

// Alerters by name: the same rule keeps its alerter and so its open alerts;
// a changed rule is told to it; new names start, gone names stop.
void reconcile_alerters(reloader_pointer self,
                        const std::vector<alert_rule>& rules) {
  auto& st = self->state;
  auto& monitor = st.parts.monitor;
  auto printer = st.parts.printer;
  std::map<std::string, std::pair<alert_rule, alerter_actor>> next;
  for (auto& rule : rules) {
    auto i = st.alerters.find(rule.name);
    if (i == st.alerters.end()) {
      auto log = [printer](log_line line) {
        caf::anon_send(printer, std::move(line));
      };
      auto a = self->system().spawn(
        alerter, rule, monitor, log, static_cast<bool>(st.parts.history),
        st.parts.resume, alert_lease{st.parts.pair, {}});
      self->send(monitor, subscribe_atom_v, a);
      next.emplace(rule.name, std::make_pair(rule, a));
      continue;
    }
    auto entry = std::move(i->second);
    st.alerters.erase(i);
    if (!same_alert(entry.first, rule)) {
      self->send(entry.second, configure_atom_v, rule);
      entry.first = rule;
    }
    next.emplace(rule.name, std::move(entry));
  }
  for (auto& [name, entry] : st.alerters) {
    self->send(monitor, unsubscribe_atom_v, entry.second);
    self->send_exit(entry.second, caf::exit_reason::user_shutdown);
    // Its open alerts end with it: a restart must not resume them. (A
    // saved_alert without a target stands for all of them.)
    if (st.parts.history) {
      saved_alert gone;
      gone.alerter = name;
      self->send(monitor, std::move(gone));
    }
  }
  st.alerters = std::move(next);
}

caf::timespan longest_timeout(const settings& cfg) {
  caf::timespan result{0};
  for (auto& t : cfg.targets)
    result = std::max(result, t.rules->schedule.timeout);
  return result;
}

void deliver(reloader_pointer self, reload_report report) {
  auto& st = self->state;
  // Refused: urlpoll failed to do what it was asked. Applied: news.
  auto start_up = report.trigger == "start-up";
  log(self,
      !report.ok ? log_level::error
      : start_up ? log_level::info
                 : log_level::notice,
      reload_line(report));
  if (st.parts.service && !start_up)
    self->send(st.parts.service, reloaded_atom_v, report.ok);
  for (auto& promise : st.waiting)
    promise.deliver(report);
  st.waiting.clear();
}

// Applies `next` to the running parts; answers the waiting requests once
// the fleet has taken its targets.
void apply(reloader_pointer self, settings next, reload_report report,
           std::chrono::steady_clock::time_point began, bool first) {
  auto& st = self->state;
  auto& parts = st.parts;
  if (!first) {
    report.needs_restart = keep_restart_only(st.running, next);
    if (next.status_interval != st.running.status_interval)
      self->send(parts.monitor, configure_atom_v, next.status_interval);
    // Every time: after logrotate moved the events file away, a reload (its
    // postrotate SIGHUP) opens a new one.
    caf::anon_send(parts.printer, configure_atom_v, next.format,
                   next.status_max_lines, next.events, next.log_threshold);
    // Every time too: watch-config may have been turned on or off, a file
    // may now be another, and a symlink may lead elsewhere.
    if (parts.file_watch)
      caf::anon_send(parts.file_watch, configure_atom_v, watched_files(next),
                     report.time);
  }
  reconcile_alerters(self, next.alerts);
  // Only the first alerters resume open alerts.
  parts.resume.reset();
  if (!first && parts.history &&
      std::tie(next.history_keeping.flush, next.history_keeping.hourly,
               next.history_keeping.retention) !=
        std::tie(st.running.history_keeping.flush,
                 st.running.history_keeping.hourly,
                 st.running.history_keeping.retention))
    self->send(parts.history, configure_atom_v, next.history_keeping);
  if (first) {
    st.path = spawn_poll_path(self->system(), next, parts.monitor);
    self->send(parts.fleet, pollers_atom_v, st.path.pollers);
    if (parts.service)
      self->send(parts.service, pollers_atom_v, st.path.local);
  } else if (!same_poll_path(st.running, next)) {
    // A new path for the next polls; the old one answers those in flight.
    auto drain = longest_timeout(next) + drain_grace;
    auto old = st.path;
    st.path = spawn_poll_path(self->system(), next, parts.monitor);
    self->send(parts.fleet, pollers_atom_v, st.path.pollers);
    if (parts.service)
      self->send(parts.service, pollers_atom_v, st.path.local);
    if (old.nodes)
      self->send(old.nodes, retire_atom_v);
    for (auto part : {caf::actor_cast<caf::actor>(old.nodes),
                      caf::actor_cast<caf::actor>(old.local)})
      if (part) {
        st.retiring.push_back(part);
        self->delayed_send(self, drain, retire_atom_v, part);
      }
  }
  report.target_count = static_cast<uint32_t>(next.targets.size());
  report.alert_count = static_cast<uint32_t>(next.alerts.size());
  fleet_plan plan;
  plan.targets = std::move(next.targets);
  plan.state_rule_sets = std::move(next.state_rule_sets);
  plan.start_spread = next.once ? caf::timespan{0} : next.start_spread;
  st.running = std::move(next);
  auto finish = [=](fleet_change change) mutable {
    auto& st = self->state;
    report.ok = true;
    report.targets = change;
    report.took = std::chrono::steady_clock::now() - began;
    if (!first) {
      st.status.last_ok = true;
      st.status.last_success = report.time;
      st.status.last_errors.clear();
      self->send(st.parts.monitor, reloaded_atom_v, st.status);
    }
    deliver(self, std::move(report));
  };
  auto hand_over = [=]() mutable {
    self->request(parts.fleet, caf::infinite, apply_atom_v, std::move(plan))
      .await(finish, [=](caf::error& err) mutable {
        report.ok = false;
        report.errors.push_back("the fleet did not take the targets: " +
                                self->system().render(err));
        deliver(self, std::move(report));
      });
  };
  // At start-up, the first polls go to every worker that is there.
  if (first && st.path.nodes) {
    auto limit =
      dispatcher_config{}.connect_timeout * 2 + std::chrono::seconds{1};
    self->request(st.path.nodes, limit, ready_atom_v)
      .await([=](bool) mutable { hand_over(); },
             [=](caf::error&) mutable {
               log(self, log_level::warning,
                   "urlpoll: not every worker answered within " +
                     duration_text(limit) + "; starting anyway");
               hand_over();
             });
    return;
  }
  hand_over();
}

void run_reload(reloader_pointer self) {
  auto& st = self->state;
  st.scheduled = false;
  auto began = std::chrono::steady_clock::now();
  reload_report report;
  report.time = caf::make_timestamp();
  for (auto& t : st.triggers)
    report.trigger += (report.trigger.empty() ? "" : ", ") + t;
  st.triggers.clear();
  if (st.parts.service)
    self->send(st.parts.service, reload_atom_v, report.trigger);
  auto loaded = load_settings(st.args);
  ++st.status.reloads;
  st.status.last_time = report.time;
  if (!loaded.errors.empty()) {
    report.ok = false;
    report.errors = std::move(loaded.errors);
    st.status.last_ok = false;
    ++st.status.failed_reloads;
    st.status.last_errors.assign(
      report.errors.begin(),
      report.errors.begin() + static_cast<std::ptrdiff_t>(
                                std::min<size_t>(report.errors.size(), 20)));
    self->send(st.parts.monitor, reloaded_atom_v, st.status);
    deliver(self, std::move(report));
    return;
  }
  apply(self, std::move(loaded.values), std::move(report), began, false);
}

reloader_actor::behavior_type reloader(reloader_pointer self, settings cfg,
                                       std::vector<std::string> args,
                                       running_parts parts) {
  auto& st = self->state;
  st.running = std::move(cfg);
  st.args = std::move(args);
  st.parts = std::move(parts);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& [name, entry] : st.alerters)
      self->send_exit(entry.second, msg.reason);
    stop(st.path);
    for (auto& old : st.retiring)
      self->send_exit(old, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [=](start_atom) {
      auto& st = self->state;
      auto promise = self->make_response_promise<reload_report>();
      st.waiting.push_back(promise);
      reload_report report;
      report.trigger = "start-up";
      report.time = caf::make_timestamp();
      // The settings read at start-up move on to the running parts.
      auto first = std::move(st.running);
      apply(self, std::move(first), std::move(report),
            std::chrono::steady_clock::now(), true);
      return promise;
    },
    [=](reload_atom, std::string& trigger) {
      auto& st = self->state;
      auto promise = self->make_response_promise<reload_report>();
      st.waiting.push_back(promise);
      st.triggers.push_back(std::move(trigger));
      if (!st.scheduled) {
        st.scheduled = true;
        self->send(self, run_reload_atom_v);
      }
      return promise;
    },
    [=](run_reload_atom) { run_reload(self); },
    [=](configure_atom, caf::actor& file_watch) {
      self->state.parts.file_watch = std::move(file_watch);
    },
    [=](retire_atom, caf::actor& old) {
      auto& retiring = self->state.retiring;
      retiring.erase(std::remove(retiring.begin(), retiring.end(), old),
                     retiring.end());
      self->send_exit(old, caf::exit_reason::user_shutdown);
    },
  };
}

} // namespace

reloader_actor spawn_reloader(caf::actor_system& sys, settings cfg,
                              std::vector<std::string> args,
                              running_parts parts) {
  return sys.spawn<caf::detached>(reloader, std::move(cfg), std::move(args),
                                  std::move(parts));
}

} // namespace urlpoll
