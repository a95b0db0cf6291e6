#include "actors/health.hpp"

namespace urlpoll {

target_state classify(const poll_result& result) {
  return result.code >= 200 && result.code <= 399 ? target_state::up
                                                  : target_state::down;
}

void record(target_status& status, const poll_result& result) {
  auto state = classify(result);
  ++status.polls;
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
