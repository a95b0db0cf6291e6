// Wiring: who owns what, and how urlpoll starts and stops.
//
//   resource (one per target) --(poll_request)--> poller pool
//   resource <--(poll_result)-- poller
//   resource --(polled)--> state_monitor --> status table / JSON on stdout
//   main --(get / all_polled)--> state_monitor --> final snapshot
#pragma once

#include <caf/fwd.hpp>

#include "app/config.hpp"

namespace urlpoll {

/// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts
/// afterwards, so that `run` alone receives them. Call before the actor
/// system starts.
void block_stop_signals();

/// Monitors the targets in `cfg` until SIGINT or SIGTERM, or, with `once`,
/// until every target has a result. Prints the final status and returns the
/// exit code: 0, or with `once` 1 unless every target is up.
int run(caf::actor_system& sys, settings cfg);

} // namespace urlpoll
