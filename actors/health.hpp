// What an answer means and what it does to a target: pure functions, tested
// without a network.
//   judge:    one answer by the request's rules -> up, degraded or down, with
//             the reason in the status (the poller calls it);
//   classify: the verdict a result carries, or its vantage quorum;
//   record:   one result folded into a target's status by the state machine
//             (thresholds, flapping), returning the transition it caused.
//
//   unknown --(success)--> up/degraded <--(at once)--> degraded/up
//   unknown/up/degraded --(failure-threshold failures in a row)--> down
//   down --(success-threshold successes in a row)--> up/degraded
#pragma once

#include <optional>
#include <vector>

#include "messages/poll.hpp"
#include "messages/snapshot.hpp"

namespace urlpoll {

/// How a target's state follows its results.
struct state_rules {
  /// Consecutive failures before a target is down.
  uint32_t failure_threshold = 1;
  /// Consecutive successes before a down target is up again.
  uint32_t success_threshold = 1;
  /// State changes within flap_window that make a target flapping; 0: never.
  uint32_t flap_threshold = 5;
  caf::timespan flap_window = std::chrono::minutes{10};
};

/// How many transitions the state monitor keeps per target.
constexpr size_t transition_history = 100;

/// Whether `code` is one the request expects (200-399 when it names none).
bool expected(uint16_t code, const std::vector<status_range>& expect);

/// "200-399", "200, 204, 300-302": the expected codes in words.
std::string describe_expect(const std::vector<status_range>& expect);

/// Judges a finished poll by the request's rules at time `now`: sets
/// result.verdict and, for anything but a plain up, says why in
/// result.status. `body_matched` is whether the body matched body-match
/// (ignored without one).
void judge(poll_result& result, const poll_request& request, bool body_matched,
           caf::timestamp now);

/// The verdict of a result: the quorum of its views in vantage mode
/// (unknown when no node could poll), else the poller's verdict, else up
/// for 200-399 (results made without rules: a failed poller, tests).
target_state classify(const poll_result& result);

/// Folds one result into a target's status: counters, the state machine
/// with `rules`, and the flapping flag from the state changes in `history`
/// (the target's last transitions, oldest first, at most
/// transition_history; a new one is appended). In vantage mode a lost
/// node's view is its last one in `status` (with_standing_views). Returns
/// the transition, if the state or the flapping flag changed.
std::optional<transition> record(target_status& status,
                                 std::vector<transition>& history,
                                 const poll_result& result,
                                 const state_rules& rules = {});

} // namespace urlpoll
