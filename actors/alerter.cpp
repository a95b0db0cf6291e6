#include "actors/alerter.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "actors/target_url.hpp"
#include "actors/transfer_outcome.hpp"
#include "actors/vantage.hpp"

namespace urlpoll {

namespace {

std::string iso(caf::timestamp x) {
  return utc_time(x, "%Y-%m-%dT%H:%M:%SZ");
}

} // namespace

std::string alert_body(const alert_rule& rule, const alert& x) {
  auto& t = x.cause;
  if (rule.slack) {
    auto mark = x.event == "resolved" || x.event == "up"
                  ? ":large_green_circle:"
                : x.event == "degraded" ? ":large_yellow_circle:"
                                        : ":red_circle:";
    // A target that left the configuration has no state to name.
    auto removed = t.to == target_state::unknown;
    std::string text = mark + std::string{" *"} + t.target + "* " +
                       (removed ? std::string{"was "}
                                : "is " + std::string{to_string(t.to)} + ": ") +
                       t.status;
    if (x.event == "reminder")
      text += " (still, since " + iso(x.since) + ")";
    else if (x.event == "resolved")
      text += " (resolved)";
    return nlohmann::json{{"text", text}}.dump();
  }
  auto views = views_json(t.views);
  nlohmann::ordered_json doc{
    {"alert", rule.name},
    {"event", x.event},
    {"target", t.target},
    {"from", to_string(t.from)},
    {"to", to_string(t.to)},
    {"time", iso(t.time)},
    {"since", iso(x.since)},
    {"status", t.status},
    {"code", t.code != 0 ? nlohmann::ordered_json(t.code)
                         : nlohmann::ordered_json(nullptr)},
    {"node", t.node.empty() ? nlohmann::ordered_json(nullptr)
                            : nlohmann::ordered_json(t.node)},
    {"views", views},
  };
  return doc.dump();
}

namespace {

using alerter_pointer = alerter_actor::stateful_pointer<alerter_state>;

// A webhook's URL in words: scheme, host and port (its path is often its
// secret).
std::string shown_url(const std::string& url) {
  auto origin = origin_of(url);
  return origin.empty() ? std::string{"the webhook"} : origin;
}

// The blocking HTTP POST, on a thread of its own: answers with the problem
// in words, or an empty string when the webhook took it (2xx).
// Spawned with an argument: CAF 0.17 dereferences a null argument tuple for
// an actor spawned without one (UBSan reports it).
caf::behavior sender(caf::event_based_actor*, std::string alert) {
  auto agent = "urlpoll/" URLPOLL_VERSION " (alert " + alert + ")";
  return {
    [agent](post_atom, const std::string& url, const std::string& body,
            caf::timespan timeout) {
      auto* easy = curl_easy_init();
      curl_slist* headers =
        curl_slist_append(nullptr, "Content-Type: application/json");
      char error[CURL_ERROR_SIZE] = {};
      curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(
        easy, CURLOPT_TIMEOUT_MS,
        static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(timeout)
            .count()));
      curl_easy_setopt(easy, CURLOPT_USERAGENT, agent.c_str());
      curl_easy_setopt(
        easy, CURLOPT_WRITEFUNCTION,
        +[](char*, size_t size, size_t count, void*) { return size * count; });
      auto code = curl_easy_perform(easy);
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      std::string problem;
      if (code != CURLE_OK) {
        transfer_report report;
        report.curl_code = code;
        report.error_buffer = error;
        report.timeout = timeout;
        long os_errno = 0;
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
        report.os_errno = static_cast<int>(os_errno);
        // libcurl's words may quote the webhook's URL, or where it
        // redirects.
        problem = redact_urls_in(describe_error(report), shown_url);
      } else if (status < 200 || status > 299) {
        problem = "the webhook answered " + status_text(status, "");
      }
      curl_slist_free_all(headers);
      curl_easy_cleanup(easy);
      return problem;
    },
  };
}

// Tells the history (by the monitor) what the webhook now knows of a target (or
// what this alerter gave up telling it): an open alert, or none.
void remember(alerter_pointer self, const delivery& d) {
  auto& st = self->state;
  if (!st.remembers || d.tells == target_state::unknown)
    return;
  saved_alert x;
  x.alerter = st.rule.name;
  x.target = d.target;
  x.told = d.tells;
  if (auto i = st.targets.find(d.target); i != st.targets.end()) {
    x.since = i->second.since;
    x.last = i->second.last;
  }
  self->send(st.monitor, std::move(x));
}

caf::timespan backoff(uint32_t attempts) {
  auto seconds = std::min<int64_t>(60, int64_t{1} << std::min(attempts, 6u));
  return std::chrono::seconds{seconds / 2};
}

void send_next(alerter_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.busy || st.queue.empty() || now < st.retry_at ||
      (st.lease.bounded && now >= st.lease.until))
    return;
  // A delivery of a pair's leader ends within its lease, never after: a
  // standby may lead from then on.
  auto timeout = st.rule.timeout;
  if (st.lease.bounded) {
    auto left = std::chrono::duration_cast<caf::timespan>(st.lease.until - now);
    if (left < std::chrono::milliseconds{100})
      return;
    timeout = std::min(timeout, left);
  }
  st.busy = true;
  auto& d = st.queue.front();
  self
    ->request(st.sender, caf::infinite, post_atom_v, st.rule.url, d.body,
              timeout)
    .then([=](std::string& problem) {
      auto& st = self->state;
      st.busy = false;
      auto& d = st.queue.front();
      auto delivered = problem.empty();
      self->send(st.monitor, alerted_atom_v, st.rule.name, delivered);
      if (delivered || d.attempts + 1 >= st.rule.max_attempts)
        remember(self, d);
      if (delivered) {
        st.queue.pop_front();
      } else if (++d.attempts >= st.rule.max_attempts) {
        if (st.log)
          st.log({log_level::error,
                  "urlpoll: alert '" + st.rule.name + "': gave up on the " +
                    d.event + " alert for " + d.target + " after " +
                    std::to_string(d.attempts) + " attempts: " + problem});
        st.queue.pop_front();
      } else {
        auto wait = backoff(d.attempts);
        st.retry_at = self->clock().now() + wait;
        if (st.log)
          st.log({log_level::warning,
                  "urlpoll: alert '" + st.rule.name + "': delivery to " +
                    shown_url(st.rule.url) + " failed (attempt " +
                    std::to_string(d.attempts) + " of " +
                    std::to_string(st.rule.max_attempts) + "): " + problem +
                    "; retrying in " + duration_text(wait)});
        return;
      }
      send_next(self);
    });
}

bool wanted(const alert_rule& rule, target_state x) {
  return std::find(rule.on.begin(), rule.on.end(), x) != rule.on.end();
}

void enqueue(alerter_pointer self, const std::string& event,
             const alerter_state::per_target& target,
             target_state tells = target_state::unknown) {
  auto& st = self->state;
  alert a{event, target.last, target.since};
  st.queue.push_back(
    delivery{alert_body(st.rule, a), event, target.last.target, 0, tells});
  send_next(self);
}

// The state of `target` may need telling: a change to down or degraded, or
// back to up after one of those.
void tell(alerter_pointer self, alerter_state::per_target& target) {
  auto& rule = self->state.rule;
  if (target.state == target.alerted)
    return;
  auto previous = target.alerted;
  switch (target.state) {
  case target_state::down:
  case target_state::degraded:
    target.alerted = target.state;
    if (wanted(rule, target.state))
      enqueue(self, to_string(target.state), target, target.state);
    target.next_reminder = self->clock().now() + rule.repeat_interval;
    break;
  case target_state::up:
    target.alerted = target_state::up;
    // The first up after start is no news; up after a failure is.
    if (previous != target_state::unknown && wanted(rule, target_state::up))
      enqueue(self, "resolved", target, target_state::up);
    break;
  default:
    break;
  }
}

// After a restart: the open alerts this alerter had, and the states the
// targets resume.
void resume(alerter_pointer self, const history_resume& from) {
  auto& st = self->state;
  for (auto& a : from.alerts) {
    if (a.alerter != st.rule.name)
      continue;
    auto& target = st.targets[a.target];
    target.alerted = a.told;
    target.since = a.since;
    target.last = a.last;
    target.next_reminder = self->clock().now() + st.rule.repeat_interval;
  }
  for (auto& x : from.states) {
    auto open = st.targets.find(x.name);
    auto problem =
      x.state == target_state::down || x.state == target_state::degraded;
    if (open == st.targets.end() && !problem)
      continue;
    auto& target = st.targets[x.name];
    auto told =
      open != st.targets.end() ? target.alerted : target_state::unknown;
    target.state = x.state;
    target.flapping = x.flapping;
    target.since = x.since;
    if (told != x.state) {
      // What it says now: the state the target resumes.
      target.last.time = x.since;
      target.last.target = x.name;
      target.last.from = told;
      target.last.to = x.state;
      target.last.flapping = x.flapping;
      target.last.status = x.status;
      target.last.code = x.code;
      target.last.views.clear();
    }
  }
  // Nothing is told yet: what a target resumed may be stale. Its first
  // result after the restart confirms it (the state monitor sends that
  // result even when nothing changed) or changes it, and then what differs
  // from what the webhook was told goes out.
}

} // namespace

alerter_actor::behavior_type
alerter(alerter_pointer self, alert_rule rule, state_monitor_actor monitor,
        std::function<void(log_line)> log, bool remembers,
        std::shared_ptr<const history_resume> resumed, alert_lease lease) {
  auto& st = self->state;
  st.lease = lease;
  st.rule = std::move(rule);
  st.monitor = std::move(monitor);
  st.log = std::move(log);
  st.remembers = remembers;
  st.sender = self->system().spawn<caf::detached>(sender, st.rule.name);
  self->link_to(st.sender);
  self->delayed_send(self, std::chrono::seconds{1}, remind_atom_v);
  if (resumed)
    resume(self, *resumed);
  return {
    [=](const transition& t) {
      auto& target = self->state.targets[t.target];
      target.last = t;
      target.flapping = t.flapping;
      if (t.from != t.to) {
        target.state = t.to;
        target.since = t.time;
      }
      // Nothing while it flaps; when it settles, whatever changed.
      if (!target.flapping)
        tell(self, target);
    },
    [=](removed_atom, const std::string& name) {
      // An open alert ends: its target is gone, and will never be resolved
      // by a poll.
      auto& st = self->state;
      auto i = st.targets.find(name);
      if (i == st.targets.end())
        return;
      auto& target = i->second;
      auto open = target.alerted == target_state::down ||
                  target.alerted == target_state::degraded;
      if (open && wanted(st.rule, target_state::up)) {
        target.last.time = caf::make_timestamp();
        target.last.from = target.state;
        target.last.to = target_state::unknown;
        target.last.status = "removed from the configuration";
        target.last.code = 0;
        target.last.views.clear();
        enqueue(self, "resolved", target, target_state::up);
      }
      st.targets.erase(i);
    },
    [=](lease_atom, const alert_lease& x) {
      self->state.lease = x;
      send_next(self);
    },
    [=](configure_atom, alert_rule& rule) {
      // Open alerts, reminders and deliveries in line stay; what they say
      // from now on follows the new rule.
      self->state.rule = std::move(rule);
    },
    [=](remind_atom) {
      auto& st = self->state;
      auto now = self->clock().now();
      if (st.rule.repeat_interval.count() > 0)
        for (auto& [name, target] : st.targets)
          if (target.state == target_state::down &&
              target.alerted == target_state::down && !target.flapping &&
              now >= target.next_reminder) {
            target.next_reminder = now + st.rule.repeat_interval;
            if (wanted(st.rule, target_state::down))
              enqueue(self, "reminder", target);
          }
      send_next(self);
      self->delayed_send(self, std::chrono::seconds{1}, remind_atom_v);
    },
  };
}

} // namespace urlpoll
