// "Is this answer up?" and what one result does to a target's status: pure
// functions, shared by the resource (for its back-off) and the state monitor
// (for the status map), and tested without a network.
#pragma once

#include "messages/poll.hpp"
#include "messages/snapshot.hpp"

namespace urlpoll {

/// Up for an HTTP status of 200-399, down for any other status or for a
/// transport error (code 0). A vantage result (with views) follows the
/// quorum of its nodes' views, and is unknown when no node could poll.
target_state classify(const poll_result& result);

/// Folds one poll result into a target's status: state, status text, code,
/// latency, counters, and `last_change` when the state changed.
void record(target_status& status, const poll_result& result);

} // namespace urlpoll
