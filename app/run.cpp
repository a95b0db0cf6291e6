#include "app/run.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <systemd/sd-daemon.h>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/publish.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/fleet.hpp"
#include "actors/history.hpp"
#include "actors/poller.hpp"
#include "actors/state_monitor.hpp"
#include "actors/timer_wheel.hpp"
#include "actors/transfer_outcome.hpp"
#include "actors/worker.hpp"
#include "app/file_watch.hpp"
#include "app/http_api.hpp"
#include "app/logging.hpp"
#include "app/reloader.hpp"
#include "app/report.hpp"

namespace urlpoll {

namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  // Not a stop signal: how the watcher itself is told to end.
  sigaddset(&set, SIGUSR1);
  return set;
}

/// Turns SIGINT and SIGTERM into a stop_atom for `main`, and SIGHUP into a
/// reload: for the reloader, or with `hup_to_main` for `main` (a standby),
/// or nothing.
class signal_watcher {
public:
  signal_watcher(caf::actor main, reloader_actor reloader,
                 bool hup_to_main = false)
    : thread_([main, reloader, hup_to_main] {
        auto set = handled_signals();
        for (;;) {
          int sig = 0;
          if (sigwait(&set, &sig) != 0 || sig == SIGUSR1)
            return;
          if (sig != SIGHUP)
            caf::anon_send(main, stop_atom_v);
          else if (reloader)
            caf::anon_send(reloader, reload_atom_v, std::string{"SIGHUP"});
          else if (hup_to_main)
            caf::anon_send(main, reload_atom_v, std::string{"SIGHUP"});
        }
      }) {
    // nop
  }

  ~signal_watcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

private:
  std::thread thread_;
};

// Sends `main` the head of the first snapshot in which every target has a
// result.
void forward_all_polled(caf::event_based_actor* self,
                        state_monitor_actor monitor, caf::actor main) {
  self->request(monitor, caf::infinite, all_polled_atom_v)
    .then([=](snapshot& x) { self->send(main, std::move(x)); });
}

// jemalloc's control interface, when jemalloc is the allocator (it is not
// under the sanitizers).
extern "C" int mallctl(const char*, void*, size_t*, void*, size_t)
  __attribute__((weak));

// Start-up reads every target into settings before the actors take them
// over; give the pages that freed back to the system at once instead of
// after jemalloc's decay time (at 100,000 targets, about 170 bytes each).
void release_freed_memory() {
  if (mallctl != nullptr)
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
}

// main's waits look at the mailbox again every second instead of only when
// woken: under AddressSanitizer and load a SIGTERM once went unanswered with
// main waiting in receive, cause not found; a second look costs nothing.
constexpr auto recheck = std::chrono::seconds{1};

// How long main waits for the final status once polling stopped. The state
// monitor answers after the scheduler (one thread, as shipped) has ended
// every resource: at 100,000 targets about a second on a busy 2-core
// machine, so the 1 s this once was left large configurations without their
// final status and with exit code 1. A monitor that is gone answers at once.
constexpr auto final_status_timeout = std::chrono::seconds{30};

caf::timespan longest_flap_window(const settings& cfg) {
  caf::timespan result{0};
  for (auto& rules : cfg.state_rule_sets)
    result = std::max(result, rules.flap_window);
  return result;
}

// once's answer, for cron and CI: yes when every target answered as its
// rules expect, up or degraded (slow, or a certificate soon to expire: the
// snapshot says which and why); no when some target is down or could not
// be polled (unknown).
bool all_answered(const snapshot& x) {
  return x.counts.up + x.counts.degraded == x.counts.targets;
}

// A worker: pollers behind a published actor, until SIGINT or SIGTERM.
int run_worker(caf::actor_system& sys, const settings& cfg) {
  auto pollers =
    spawn_pollers(sys, cfg.pollers, cfg.max_in_flight, cfg.node_name);
  auto face = sys.spawn(worker, cfg.node_name, pollers);
  auto host = cfg.listen.host.c_str();
  auto port = cfg.tls ? caf::openssl::publish(face, cfg.listen.port, host, true)
                      : caf::io::publish(face, cfg.listen.port, host, true);
  caf::scoped_actor self{sys};
  auto stop = [&] {
    self->send_exit(face, caf::exit_reason::user_shutdown);
    self->send_exit(pollers, caf::exit_reason::user_shutdown);
  };
  if (!port) {
    write_log(log_level::error,
              "urlpoll: cannot listen on " + to_string(cfg.listen) + ": " +
                sys.render(port.error()) +
                " (is another process using the port? set urlpoll.listen)");
    stop();
    return 3;
  }
  auto shown = cfg.listen;
  shown.port = *port;
  std::cout << "urlpoll worker " << cfg.node_name << " listening on "
            << to_string(shown) << (cfg.tls ? " (TLS)" : "") << std::endl;
  // Under systemd (urlpoll-worker@.service): ready once it listens. A
  // worker's state is its pollers, which its coordinators watch.
  sd_notify(0, ("READY=1\nSTATUS=listening on " + to_string(shown)).c_str());
  // A worker has nothing to reload: SIGHUP changes nothing.
  signal_watcher watcher{caf::actor{self}, {}};
  self->receive([](stop_atom) {});
  sd_notify(0, "STOPPING=1");
  stop();
  return 0;
}

// What a standby needs to lead: what the history resumed, and where its
// HTTP API listened (the leader's listens there again).
struct taken_over {
  std::shared_ptr<const history_resume> resume;
  std::optional<worker_address> api;
};

// A standby of a coordinator pair: its HTTP API shows what the leader
// wrote, read-only, and says who leads; it polls and alerts nothing. Waits
// until the history says that this coordinator leads (what to resume), or
// a stop (nothing; `code` the exit code).
std::optional<taken_over> stand_by(caf::actor_system& sys,
                                   caf::scoped_actor& self, const settings& cfg,
                                   const std::vector<std::string>& args,
                                   state_monitor_actor monitor,
                                   history_actor history, caf::actor printer,
                                   service_actor service, int& code) {
  auto say = [&](log_level level, const std::string& line) {
    caf::anon_send(printer, log_line{level, line});
  };
  taken_over result;
  result.api = cfg.http_listen;
  std::unique_ptr<http_api> api;
  if (result.api) {
    api =
      std::make_unique<http_api>(sys, monitor, cfg.http_token, reloader_actor{},
                                 history, cfg.metrics_per_target);
    if (auto problem = api->start(*result.api)) {
      say(log_level::error, "urlpoll: " + *problem);
      code = 3;
      return std::nullopt;
    }
    result.api->port = static_cast<uint16_t>(api->port());
    auto keeping = cfg.history_keeping;
    keeping.api = to_string(*result.api);
    self->send(history, configure_atom_v, keeping);
    say(log_level::info,
        "urlpoll: HTTP API, /metrics and the status page on http://" +
          to_string(*result.api) + "/ (standby: read-only)");
  }
  say(log_level::notice,
      "urlpoll: standing by: another coordinator leads (history " +
        redacted_history(cfg.history) + "); this one takes over at most " +
        duration_text(cfg.history_keeping.takeover) +
        " (ha-takeover) after the leader ends");
  // A standby coordinator keeps its workers connected, polling nothing: its
  // status shows whether it reaches them, before it has to.
  poll_path nodes;
  if (cfg.role == node_role::coordinator)
    nodes = spawn_poll_path(sys, cfg, monitor);
  if (service)
    self->send(service, ready_atom_v);
  signal_watcher watcher{caf::actor{self}, {}, true};
  for (bool stopped = false; !result.resume && !stopped;)
    self->receive(
      [&](lead_atom, std::shared_ptr<const history_resume>& x) {
        result.resume = std::move(x);
      },
      [&](stop_atom) { stopped = true; }, [&](standby_atom) {},
      [&](reload_atom, std::string& trigger) {
        // A standby runs nothing a configuration changes: it checks the
        // files, and reads them again when it takes over.
        auto loaded = load_settings(args);
        say(loaded.errors.empty() ? log_level::info : log_level::error,
            "urlpoll: configuration reload (" + trigger + ") on a standby: " +
              (loaded.errors.empty()
                 ? "the files are fine (" +
                     std::to_string(loaded.values.targets.size()) +
                     (loaded.values.targets.size() == 1 ? " target"
                                                        : " targets") +
                     "); they apply when this coordinator leads"
                 : "the files have " + std::to_string(loaded.errors.size()) +
                     " errors, the first: " + loaded.errors.front()));
      },
      caf::after(recheck) >> [] {});
  stop(nodes);
  code = 0;
  if (!result.resume)
    return std::nullopt;
  return result;
}

} // namespace

void block_stop_signals() {
  auto set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run(caf::actor_system& sys, settings cfg, std::vector<std::string> args) {
  for (auto& warning : cfg.warnings)
    write_log(log_level::warning, "urlpoll: " + warning);
  if (cfg.role == node_role::worker)
    return run_worker(sys, cfg);
  // once: poll every target once, print JSON, answer by exit code.
  auto once = cfg.once;
  auto format = once ? status_format::json : cfg.format;
  // Who owns what: the printer owns stdout and stderr, the state monitor
  // the status, the fleet the targets, the timer wheel their wake-ups, the
  // reloader the configuration in force (alerters and pollers included).
  auto printer = spawn_printer(sys, format, cfg.status_max_lines, cfg.events,
                               cfg.log_threshold);
  caf::scoped_actor self{sys};
  // The history first: a database that cannot be used stops the start-up
  // before anything polls, listens or alerts.
  history_actor history;
  std::shared_ptr<const history_resume> resumed;
  bool standby = false;
  if (!cfg.history.empty()) {
    history = spawn_history(sys, cfg.history, cfg.history_keeping, printer);
    std::string problem;
    self
      ->request(history, caf::infinite, start_atom_v, longest_flap_window(cfg))
      .receive(
        [&](history_opened& x) {
          problem = std::move(x.problem);
          resumed = std::move(x.resume);
          standby = x.standby;
        },
        [&](caf::error& err) { problem = sys.render(err); });
    if (!problem.empty()) {
      self->send_exit(history, caf::exit_reason::user_shutdown);
      self->send_exit(printer, caf::exit_reason::user_shutdown);
      self->wait_for(history, printer);
      write_log(log_level::error, "urlpoll: " + problem);
      return 2;
    }
  }
  auto monitor = sys.spawn(state_monitor, monitor_targets{},
                           once ? caf::timespan{0} : cfg.status_interval,
                           to_printer(printer));
  if (history) {
    self->send(history, subscribe_atom_v, caf::actor_cast<caf::actor>(monitor));
    // A pair: the history tells main when this coordinator leads, or no
    // more.
    self->send(history, lead_atom_v, caf::actor{self});
  }
  // Under systemd (Type=notify): readiness, reloads, status, watchdog.
  auto service = once ? service_actor{} : spawn_service(sys, monitor, printer);
  if (standby) {
    int code = 0;
    auto next =
      stand_by(sys, self, cfg, args, monitor, history, printer, service, code);
    if (!next) {
      if (service)
        self->send(service, stop_atom_v);
      self->send_exit(history, caf::exit_reason::user_shutdown);
      self->send_exit(monitor, caf::exit_reason::user_shutdown);
      self->send_exit(printer, caf::exit_reason::user_shutdown);
      self->wait_for(history, printer);
      return code;
    }
    resumed = std::move(next->resume);
    cfg.http_listen = next->api;
    // The leader's view goes; the fleet's targets come.
    self->send(monitor, lead_atom_v);
  }
  if (history)
    self->send(monitor, resume_atom_v, history, resumed);
  auto wheel = sys.spawn(timer_wheel, cfg.timer_resolution);
  auto fleet_handle = sys.spawn(fleet, resource_peers{{}, monitor, wheel});
  running_parts parts{fleet_handle,       monitor, printer, {}, history,
                      std::move(resumed), service};
  parts.pair = standby || (history && is_postgresql(cfg.history));
  auto files = watched_files(cfg);
  auto http_listen = once ? std::nullopt : cfg.http_listen;
  auto http_token = cfg.http_token;
  auto metrics_per_target = cfg.metrics_per_target;
  auto history_keeping = cfg.history_keeping;
  auto reloader = spawn_reloader(sys, std::move(cfg), std::move(args), parts);
  auto stop_all = [&] {
    // Stop polling: first the resources, so that no poll starts and none
    // hears of its pollers' end, then the pollers (with the reloader), which
    // abandon the transfers in flight. The fleet has told every resource to
    // stop once it is gone itself.
    self->send_exit(fleet_handle, caf::exit_reason::user_shutdown);
    self->wait_for(fleet_handle);
    self->send_exit(wheel, caf::exit_reason::user_shutdown);
    self->send_exit(reloader, caf::exit_reason::user_shutdown);
  };
  auto stop_output = [&] {
    // The history writes what it holds: the monitor's last batch (every
    // target's counters), then every hour being counted.
    if (history) {
      self->request(monitor, std::chrono::seconds{5}, save_atom_v)
        .receive([](bool) {}, [](caf::error&) {});
      self->request(history, std::chrono::seconds{60}, save_atom_v)
        .receive([](bool) {},
                 [&](caf::error& err) {
                   caf::anon_send(printer,
                                  log_line{log_level::error,
                                           "urlpoll: history: the last write "
                                           "did not end: " +
                                             sys.render(err)});
                 });
      self->send_exit(history, caf::exit_reason::user_shutdown);
      self->wait_for(history);
    }
    self->send_exit(monitor, caf::exit_reason::user_shutdown);
    // Stop the printer and wait for its thread to end, so that nothing it
    // still had to write comes after the final status.
    self->send_exit(printer, caf::exit_reason::user_shutdown);
    self->wait_for(printer);
  };
  // The first reload: every target starts, and is in the status
  // before anyone can ask for it.
  self->send(reloader, start_atom_v);
  for (bool started = false; !started;)
    self->receive([&](reload_report&) { started = true; },
                  caf::after(recheck) >> [] {});
  // Once the state monitor answers, it has taken the targets (it answers in
  // order) and the start-up copies of them are freed: give those pages back.
  self->request(monitor, caf::infinite, caf::get_atom_v, std::string{})
    .receive([](target_detail&) {}, [](caf::error&) {});
  release_freed_memory();
  // once answers by exit code: no HTTP API, so that a cron job never fights
  // a running urlpoll for its port.
  std::unique_ptr<http_api> api;
  if (http_listen) {
    api = std::make_unique<http_api>(sys, monitor, http_token, reloader,
                                     history, metrics_per_target);
    // Every line goes through the printer, the one owner of stderr: two
    // writers would interleave their words.
    auto say = [&](log_level level, const std::string& line) {
      caf::anon_send(printer, log_line{level, line});
    };
    if (auto problem = api->start(*http_listen)) {
      say(log_level::error, "urlpoll: " + *problem);
      api.reset();
      stop_all();
      stop_output();
      return 3;
    }
    say(log_level::info,
        "urlpoll: HTTP API, /metrics and the status page on http://" +
          to_string(worker_address{http_listen->host,
                                   static_cast<uint16_t>(api->port())}) +
          "/");
    if (history) {
      history_keeping.api = to_string(
        worker_address{http_listen->host, static_cast<uint16_t>(api->port())});
      self->send(history, configure_atom_v, history_keeping);
    }
  }
  // There but with once, watching nothing without watch-config: a reload
  // may turn it on.
  caf::actor file_watch;
  if (!once) {
    file_watch = spawn_file_watch(sys, reloader, files);
    self->send(reloader, configure_atom_v, file_watch);
  }
  signal_watcher watcher{caf::actor{self}, once ? reloader_actor{} : reloader};
  // The first polls are scheduled and the HTTP API listens.
  if (service)
    self->send(service, ready_atom_v);
  // A standby that took over reads its configuration again: it may have
  // changed while it stood by.
  if (standby)
    self->send(reloader, reload_atom_v, std::string{"taking over"});
  if (once)
    sys.spawn(forward_all_polled, monitor, caf::actor{self});
  std::optional<snapshot> final_status;
  bool lost_lead = false;
  for (bool stopped = false; !stopped;)
    self->receive(
      [&](snapshot& x) {
        final_status = std::move(x);
        stopped = true;
      },
      [&](stop_atom) { stopped = true; },
      [&](standby_atom) {
        lost_lead = true;
        stopped = true;
      },
      [&](lead_atom, std::shared_ptr<const history_resume>&) {},
      caf::after(recheck) >> [] {});
  if (lost_lead) {
    // Another coordinator leads: nothing more is polled, alerted or
    // written here, and this one starts again as a standby.
    if (file_watch)
      self->send_exit(file_watch, caf::exit_reason::user_shutdown);
    stop_all();
    api.reset();
    self->send_exit(history, caf::exit_reason::user_shutdown);
    self->wait_for(history);
    self->send_exit(monitor, caf::exit_reason::user_shutdown);
    self->send_exit(printer, caf::exit_reason::user_shutdown);
    self->wait_for(printer);
    return restart_as_standby;
  }
  // STOPPING=1, and the service ends.
  if (service)
    self->send(service, stop_atom_v);
  if (file_watch)
    self->send_exit(file_watch, caf::exit_reason::user_shutdown);
  stop_all();
  // The final status, written by the printer a page at a time.
  self->request(printer, final_status_timeout, print_atom_v, monitor)
    .receive([&](snapshot& x) { final_status = std::move(x); },
             [&](caf::error& err) {
               final_status.reset();
               caf::anon_send(printer, log_line{log_level::error,
                                                "urlpoll: no final status: " +
                                                  sys.render(err)});
             });
  api.reset();
  stop_output();
  if (!final_status)
    return 1;
  if (once)
    return all_answered(*final_status) ? 0 : 1;
  return 0;
}

} // namespace urlpoll
