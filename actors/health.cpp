#include "actors/health.hpp"

#include <algorithm>
#include <ctime>

#include "actors/transfer_outcome.hpp"
#include "actors/vantage.hpp"

namespace urlpoll {

bool expected(uint16_t code, const std::vector<status_range>& expect) {
  if (expect.empty())
    return code >= 200 && code <= 399;
  return std::any_of(expect.begin(), expect.end(), [code](auto& r) {
    return code >= r.from && code <= r.to;
  });
}

std::string describe_expect(const std::vector<status_range>& expect) {
  if (expect.empty())
    return "200-399";
  std::string out;
  for (auto& r : expect) {
    if (!out.empty())
      out += ", ";
    out += std::to_string(r.from);
    if (r.to != r.from)
      out += "-" + std::to_string(r.to);
  }
  return out;
}

void judge(poll_result& result, const poll_request& request, bool body_matched,
           caf::timestamp now) {
  if (result.code == 0) {
    result.verdict = target_state::down;
    return;
  }
  if (!expected(result.code, request.expect)) {
    result.verdict = target_state::down;
    if (!request.expect.empty())
      result.status += " (expected " + describe_expect(request.expect) + ")";
    return;
  }
  if (!request.body_match.empty() && request.method == http_method::get &&
      !body_matched) {
    result.verdict = target_state::down;
    auto& m = request.body_match;
    auto regex = m.size() >= 2 && m.front() == '/' && m.back() == '/';
    result.status += regex ? ", but the body does not match " + m
                           : ", but the body does not contain \"" + m + "\"";
    return;
  }
  result.verdict = target_state::up;
  // insecure: the certificate is not judged at all.
  if (!request.insecure && request.cert_expiry_warn.count() > 0 &&
      result.cert_expiry.time_since_epoch().count() != 0 &&
      result.cert_expiry - now < request.cert_expiry_warn) {
    result.verdict = target_state::degraded;
    result.status += ", but the certificate expires in " +
                     std::to_string(days_until(result.cert_expiry, now)) +
                     " days (" + utc_time(result.cert_expiry, "%Y-%m-%d") + ")";
    return;
  }
  if (request.degraded_latency.count() > 0 &&
      result.latency > request.degraded_latency) {
    result.verdict = target_state::degraded;
    result.status += ", but slow: " + duration_text(result.latency) +
                     " (degraded above " +
                     duration_text(request.degraded_latency) + ")";
  }
}

target_state classify(const poll_result& result) {
  if (!result.views.empty())
    return verdict(result.views, result.quorum);
  if (result.verdict != target_state::unknown)
    return result.verdict;
  return expected(result.code, {}) ? target_state::up : target_state::down;
}

namespace {

bool flaps(const std::vector<transition>& history, caf::timestamp now,
           const state_rules& rules) {
  if (rules.flap_threshold == 0)
    return false;
  // A state goes back to unknown only when the target starts over (its URL
  // changed): what came before is another target's flapping.
  // The first result out of unknown is no change of the target: it does
  // not count.
  uint32_t changes = 0;
  for (auto i = history.rbegin(); i != history.rend(); ++i) {
    if (i->to == target_state::unknown)
      break;
    if (i->from != i->to && i->from != target_state::unknown &&
        now - i->time <= rules.flap_window)
      ++changes;
  }
  return changes >= rules.flap_threshold;
}

} // namespace

std::optional<transition> record(target_status& status,
                                 std::vector<transition>& history,
                                 const poll_result& polled,
                                 const state_rules& rules) {
  // Vantage mode: a lost node's last view stands (vantage.hpp).
  auto standing = with_standing_views(polled, status.views);
  auto& result = standing ? *standing : polled;
  auto verdict = classify(result);
  ++status.polls;
  status.node = result.node;
  status.views = result.views;
  status.quorum = static_cast<uint16_t>(result.quorum);
  status.head_refused = status.head_refused || result.head_refused;
  if (result.head_refused)
    status.method = http_method::get;
  if (result.cert_expiry.time_since_epoch().count() != 0)
    status.cert_expiry = result.cert_expiry;
  if (verdict == target_state::unknown) {
    // No node could poll: nothing is known about the target itself, so its
    // state and counters stay; the status says why.
    status.status = result.status;
    return std::nullopt;
  }
  status.status = result.status;
  status.code = result.code;
  status.latency = result.latency;
  status.timings = result.timings;
  status.last_poll = result.time;
  auto next = status.state;
  if (verdict == target_state::down) {
    ++status.failures;
    ++status.consecutive_failures;
    status.consecutive_successes = 0;
    if (status.consecutive_failures >= std::max(rules.failure_threshold, 1u))
      next = target_state::down;
  } else {
    status.consecutive_failures = 0;
    ++status.consecutive_successes;
    if (status.state != target_state::down ||
        status.consecutive_successes >= std::max(rules.success_threshold, 1u))
      next = verdict;
  }
  auto changed = next != status.state;
  transition t;
  t.time = result.time;
  t.target = status.name.empty() ? status.url : status.name;
  t.from = status.state;
  t.to = next;
  t.status = result.status;
  t.code = result.code;
  t.latency = result.latency;
  t.node = result.node;
  t.views = result.views;
  if (changed) {
    status.state = next;
    status.last_change = result.time;
    if (history.size() >= transition_history)
      history.erase(history.begin());
    history.push_back(t);
  }
  auto flapping = flaps(history, result.time, rules);
  if (!changed && flapping == status.flapping)
    return std::nullopt;
  status.flapping = flapping;
  t.flapping = flapping;
  if (changed)
    history.back().flapping = flapping;
  return t;
}

} // namespace urlpoll
