#include "app/run.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <pthread.h>
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

#include "actors/alerter.hpp"
#include "actors/dispatcher.hpp"
#include "actors/poller.hpp"
#include "actors/resource.hpp"
#include "actors/state_monitor.hpp"
#include "actors/target_url.hpp"
#include "actors/timer_wheel.hpp"
#include "actors/transfer_outcome.hpp"
#include "actors/worker.hpp"
#include "app/http_api.hpp"
#include "app/report.hpp"

namespace urlpoll {

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // Not a stop signal: how the watcher itself is told to end.
  sigaddset(&set, SIGUSR1);
  return set;
}

/// Turns SIGINT and SIGTERM into a stop_atom for `main`.
class signal_watcher {
public:
  explicit signal_watcher(caf::actor main)
    : thread_([main] {
        auto set = stop_signals();
        for (;;) {
          int sig = 0;
          if (sigwait(&set, &sig) != 0 || sig == SIGUSR1)
            return;
          caf::anon_send(main, stop_atom_v);
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

// Sends `main` the first snapshot in which every target has a result.
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

bool all_up(const snapshot& x) {
  for (auto& t : x.targets)
    if (t.state != target_state::up)
      return false;
  return true;
}

} // namespace

void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

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
    std::cerr << "urlpoll: cannot listen on " << to_string(cfg.listen) << ": "
              << sys.render(port.error())
              << " (is another process using the port? set urlpoll.listen)\n";
    stop();
    return 3;
  }
  auto shown = cfg.listen;
  shown.port = *port;
  std::cout << "urlpoll worker " << cfg.node_name << " listening on "
            << to_string(shown) << (cfg.tls ? " (TLS)" : "") << std::endl;
  signal_watcher watcher{caf::actor{self}};
  self->receive([](stop_atom) {});
  stop();
  return 0;
}

} // namespace

int run(caf::actor_system& sys, settings cfg) {
  for (auto& warning : cfg.warnings)
    std::cerr << "urlpoll: " << warning << '\n';
  if (cfg.role == node_role::worker)
    return run_worker(sys, cfg);
  auto format = cfg.once ? status_format::json : cfg.format;
  auto printer = spawn_printer(sys, format, cfg.events);
  monitor_output output;
  output.status = [printer](snapshot x) {
    caf::anon_send(printer, std::move(x));
  };
  output.failure = [printer](const target_status& x) {
    caf::anon_send(printer, x);
  };
  // Transitions go to the events output and to every alerter, which are
  // spawned once the monitor is (they report deliveries to it).
  auto alerters = std::make_shared<std::vector<alerter_actor>>();
  output.transition = [printer, alerters](const transition& x) {
    caf::anon_send(printer, x);
    for (auto& a : *alerters)
      caf::anon_send(a, x);
  };
  monitor_targets watched;
  watched.rule_sets = cfg.state_rule_sets;
  for (auto& spec : cfg.targets) {
    target_status status;
    status.name = std::move(spec.name);
    status.url = redact(spec.url);
    status.method = spec.rules->check.method;
    watched.targets.push_back(std::move(status));
    watched.rules.push_back(spec.state_rules);
  }
  auto status_interval = cfg.once ? caf::timespan{0} : cfg.status_interval;
  auto monitor = sys.spawn(state_monitor, std::move(watched), status_interval,
                           std::move(output));
  auto log = [printer](const std::string& line) {
    caf::anon_send(printer, line);
  };
  std::vector<alerter_actor> spawned_alerters;
  for (auto& rule : cfg.alerts)
    spawned_alerters.push_back(sys.spawn(alerter, rule, monitor, log));
  // Handed over by message, not shared: the monitor's output reads the list
  // only after this store, on the monitor's first transition.
  *alerters = spawned_alerters;
  // once answers by exit code: no HTTP API, so that a cron job never fights
  // a running urlpoll for its port.
  std::unique_ptr<http_api> api;
  if (cfg.http_listen && !cfg.once) {
    api = std::make_unique<http_api>(sys, monitor, cfg.http_token);
    if (auto problem = api->start(*cfg.http_listen)) {
      std::cerr << "urlpoll: " << *problem << '\n';
      api.reset();
      caf::anon_send_exit(monitor, caf::exit_reason::user_shutdown);
      for (auto& a : spawned_alerters)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
      return 3;
    }
    std::cerr << "urlpoll: HTTP API, /metrics and the status page on http://"
              << to_string(worker_address{cfg.http_listen->host,
                                          static_cast<uint16_t>(api->port())})
              << "/" << std::endl;
  }
  auto coordinator = cfg.role == node_role::coordinator;
  poller_actor local;
  if (!coordinator || cfg.local_pollers)
    local = spawn_pollers(sys, cfg.pollers, cfg.max_in_flight,
                          coordinator ? cfg.node_name : std::string{});
  poller_actor pollers = local;
  dispatcher_actor nodes;
  caf::scoped_actor self{sys};
  if (coordinator) {
    dispatcher_config dc;
    dc.mode = cfg.dispatch;
    dc.quorum = cfg.quorum;
    dc.workers = cfg.workers;
    if (local)
      dc.local.emplace_back(cfg.node_name, local);
    dc.tls = cfg.tls;
    dc.monitor = monitor;
    auto limit = dc.connect_timeout * 2 + std::chrono::seconds{1};
    nodes = sys.spawn(dispatcher, std::move(dc));
    pollers = caf::actor_cast<poller_actor>(nodes);
    // The first polls go to every worker that is there at start-up.
    self->request(nodes, limit, ready_atom_v)
      .receive([](bool) {},
               [&](caf::error&) {
                 std::cerr << "urlpoll: not every worker answered within "
                           << format_duration(limit) << "; starting anyway\n";
               });
  }
  auto wheel = sys.spawn(timer_wheel, cfg.timer_resolution);
  resource_peers peers{pollers, monitor, wheel};
  // With once, every target is polled right away.
  auto spread = cfg.once ? caf::timespan{0} : cfg.start_spread;
  auto n = cfg.targets.size();
  std::vector<resource_actor> resources;
  resources.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto& spec = cfg.targets[i];
    // Never later than one of the target's own intervals.
    auto first =
      start_offset(std::min(spread, spec.rules->schedule.interval), i, n);
    resources.push_back(sys.spawn(
      resource, target{static_cast<target_id>(i), std::move(spec.url)},
      std::move(spec.rules), first, peers));
  }
  // Each target now lives in its resource and the state monitor only.
  std::vector<target_spec>{}.swap(cfg.targets);
  release_freed_memory();
  signal_watcher watcher{caf::actor{self}};
  if (cfg.once)
    sys.spawn(forward_all_polled, monitor, caf::actor{self});
  std::optional<snapshot> final_status;
  self->receive([&](snapshot& x) { final_status = std::move(x); },
                [&](stop_atom) {});
  // Stop polling: first the resources, so that no poll starts, then the
  // pollers, which abandon the transfers in flight.
  for (auto& r : resources)
    self->send_exit(r, caf::exit_reason::user_shutdown);
  self->send_exit(wheel, caf::exit_reason::user_shutdown);
  if (nodes)
    self->send_exit(nodes, caf::exit_reason::user_shutdown);
  if (local)
    self->send_exit(local, caf::exit_reason::user_shutdown);
  if (!final_status)
    self->request(monitor, std::chrono::seconds{1}, caf::get_atom::value)
      .receive([&](snapshot& x) { final_status = std::move(x); },
               [&](caf::error& err) {
                 std::cerr << "urlpoll: no final status: " << sys.render(err)
                           << '\n';
               });
  api.reset();
  for (auto& a : spawned_alerters)
    self->send_exit(a, caf::exit_reason::user_shutdown);
  self->send_exit(monitor, caf::exit_reason::user_shutdown);
  // Stop the printer and wait for its thread to end, so that nothing it
  // still had to write comes after the final status.
  self->send_exit(printer, caf::exit_reason::user_shutdown);
  self->wait_for(printer);
  if (!final_status)
    return 1;
  std::cout << render(*final_status, format) << std::flush;
  if (cfg.once)
    return all_up(*final_status) ? 0 : 1;
  return 0;
}

} // namespace urlpoll
