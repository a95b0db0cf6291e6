#include "app/service.hpp"

#include <cstdlib>
#include <systemd/sd-daemon.h>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/state_monitor.hpp"
#include "actors/transfer_outcome.hpp"
#include "app/logging.hpp"

namespace urlpoll {

namespace {

using service_pointer = service_actor::stateful_pointer<service_state>;

// 1234567 -> "1,234,567".
std::string grouped(uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

void say(service_pointer self, const std::string& line) {
  if (self->state.cfg.printer)
    caf::anon_send(self->state.cfg.printer,
                   log_line{log_level::error, "urlpoll: watchdog: " + line});
}

// Asks the state monitor for the counts, and tells systemd.
void send_status(service_pointer self, std::string head) {
  status_query q;
  q.state = "down"; // the counts come with every page; no page is wanted
  q.limit = 0;
  auto& st = self->state;
  self->request(st.cfg.monitor, std::chrono::seconds{10}, caf::get_atom_v, q)
    .then(
      [=](const snapshot& x) {
        self->state.cfg.notify(head + "STATUS=" + status_line(x.counts));
      },
      [=](caf::error&) {
        if (!head.empty())
          self->state.cfg.notify(head);
      });
}

// One answer of the watchdog's check `check` came, or did not.
void answered(service_pointer self, uint64_t check, bool ok,
              const std::string& who) {
  auto& st = self->state;
  if (check != st.check || st.waiting == 0)
    return;
  if (!ok && !st.failed) {
    st.failed = true;
    if (!st.complained)
      say(self, who + " did not answer within " +
                  duration_text(st.cfg.watchdog / 2) +
                  "; no WATCHDOG=1 until it does (systemd restarts urlpoll "
                  "after WatchdogSec=" +
                  format_duration(st.cfg.watchdog) + ")");
    st.complained = true;
  }
  if (--st.waiting > 0)
    return;
  if (!st.failed) {
    st.cfg.notify("WATCHDOG=1");
    st.complained = false;
  }
}

// Asks the state monitor and every poller whether they work; WATCHDOG=1
// when all of them answered within half the period.
void check(service_pointer self) {
  auto& st = self->state;
  auto id = ++st.check;
  auto limit = st.cfg.watchdog / 2;
  st.failed = false;
  st.waiting = 1;
  self->request(st.cfg.monitor, limit, ping_atom_v)
    .then([=](bool) { answered(self, id, true, "the state monitor"); },
          [=](caf::error&) { answered(self, id, false, "the state monitor"); });
  if (!st.pollers)
    return;
  ++st.waiting;
  auto pool = caf::actor_cast<caf::actor>(st.pollers);
  self->request(pool, limit, caf::sys_atom_v, caf::get_atom_v)
    .then(
      [=](std::vector<caf::actor>& pollers) {
        auto& st = self->state;
        if (id != st.check)
          return;
        st.waiting += pollers.size();
        for (size_t i = 0; i < pollers.size(); ++i) {
          auto who = "poller " + std::to_string(i + 1) + " of " +
                     std::to_string(pollers.size());
          self->request(pollers[i], limit, ping_atom_v)
            .then([=](bool) { answered(self, id, true, who); },
                  [=](caf::error&) { answered(self, id, false, who); });
        }
        answered(self, id, true, "the poller pool");
      },
      [=](caf::error&) { answered(self, id, false, "the poller pool"); });
}

} // namespace

std::string status_line(const state_counts& x) {
  if (x.targets == 0)
    return "no targets";
  std::string out =
    grouped(x.targets) + (x.targets == 1 ? " target" : " targets");
  std::string sep = ": ";
  for (auto [n, what] : {std::pair{x.up, "up"},
                         {x.down, "down"},
                         {x.degraded, "degraded"},
                         {x.unknown, "unknown"},
                         {x.flapping, "flapping"}}) {
    if (n == 0)
      continue;
    out += sep + grouped(n) + " " + what;
    sep = ", ";
  }
  return out;
}

service_actor::behavior_type
service(service_actor::stateful_pointer<service_state> self,
        service_config cfg) {
  self->state.cfg = std::move(cfg);
  if (self->state.cfg.watchdog.count() > 0)
    self->send(self, watchdog_atom_v);
  return {
    [=](ready_atom) {
      auto& st = self->state;
      if (st.ready)
        return;
      st.ready = true;
      send_status(self, "READY=1\n");
      self->delayed_send(self, st.cfg.status_every, report_atom_v);
    },
    [=](reload_atom, const std::string& trigger) {
      self->state.cfg.notify(
        "RELOADING=1\nSTATUS=reloading the configuration (" + trigger + ")");
    },
    [=](reloaded_atom, bool) {
      // Refused or applied, the reload is over and urlpoll runs on.
      send_status(self, "READY=1\n");
    },
    [=](pollers_atom, poller_actor& pollers) {
      self->state.pollers = std::move(pollers);
    },
    [=](stop_atom) {
      self->state.cfg.notify("STOPPING=1\nSTATUS=stopping");
      self->quit();
    },
    [=](report_atom) {
      send_status(self, "");
      self->delayed_send(self, self->state.cfg.status_every, report_atom_v);
    },
    [=](watchdog_atom) {
      check(self);
      self->delayed_send(self, self->state.cfg.watchdog / 2, watchdog_atom_v);
    },
  };
}

service_actor spawn_service(caf::actor_system& sys,
                            const state_monitor_actor& monitor,
                            caf::actor printer) {
  if (std::getenv("NOTIFY_SOCKET") == nullptr)
    return {};
  service_config cfg;
  cfg.notify = [](const std::string& text) {
    sd_notify(0, text.c_str());
  };
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0)
    cfg.watchdog = std::chrono::microseconds{usec};
  cfg.monitor = monitor;
  cfg.printer = std::move(printer);
  return sys.spawn(service, std::move(cfg));
}

} // namespace urlpoll
