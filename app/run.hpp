// Wiring: who owns what, and how urlpoll starts, reloads and stops.
//
//   reloader --(apply: the targets now)--> fleet --(spawns, stops)--> resource
//   fleet --(track: ids in configuration order)--> state_monitor
//   resource (one per target) --(poll_request)--> poller pool
//   resource <--(poll_result)-- poller
//   resource --(polled)--> state_monitor --> printer: status on stdout
//   state_monitor --(transition, removed)--> alerters (owned by the reloader)
//   SIGHUP, POST /-/reload, file watch --(reload)--> reloader
//   main --(get / all_polled)--> state_monitor --> final snapshot
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "app/config.hpp"

namespace urlpoll {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it
/// starts afterwards, so that `run` alone receives them. Call before the actor
/// system starts.
void block_stop_signals();

/// What `run` returns when this coordinator lost the lead of its pair: main
/// starts the program again, as a standby.
constexpr int restart_as_standby = 1000;

/// Monitors the targets in `cfg` until SIGINT or SIGTERM, or, with `once`,
/// until every target has a result. Prints the final status and returns the
/// exit code: 0, or with `once` 1 when some target is down or could not be
/// polled.
/// `args` is the command line without the program name: a reload (SIGHUP,
/// POST /-/reload, watch-config) reads the configuration again from it.
int run(caf::actor_system& sys, settings cfg,
        std::vector<std::string> args = {});

} // namespace urlpoll
