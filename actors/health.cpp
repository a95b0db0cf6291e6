#include "actors/health.hpp"

#include "actors/vantage.hpp"

namespace urlpoll {

target_state classify(const poll_result& result) {
  if (!result.views.empty())
    return verdict(result.views, result.quorum);
  return result.code >= 200 && result.code <= 399 ? target_state::up
                                                  : target_state::down;
}

void record(target_status& status, const poll_result& result) {
  auto state = classify(result);
  ++status.polls;
  status.node = result.node;
  status.views = result.views;
  status.quorum = result.quorum;
  if (state == target_state::unknown) {
    // No node could poll: nothing is known about the target itself, so its
    // state and counters stay; the status says why.
    status.status = result.status;
    return;
  }
  if (state == target_state::down) {
    ++status.failures;
    ++status.consecutive_failures;
  } else {
    status.consecutive_failures = 0;
  }
  if (state != status.state)
    status.last_change = result.time;
  status.state = state;
  status.status = result.status;
  status.code = result.code;
  status.latency = result.latency;
  status.timings = result.timings;
  status.last_poll = result.time;
}

} // namespace urlpoll
