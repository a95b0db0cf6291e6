// poller: does the HTTP work.
//
// Owns:     a libcurl multi handle with its connections (kept alive and
//           reused per host) and the transfers in flight.
// Receives: (poll_atom, poll_request) from a resource.
// Sends:    the poll_result back to that resource, when the transfer ends.
//
// Each poller runs on its own thread (libcurl blocks; CAF's scheduler threads
// must not) and keeps many transfers in flight at once. libcurl's own timeout
// bounds every transfer, so every request gets exactly one answer.
#pragma once

#include <cstddef>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace urlpoll {

/// Spawns `count` pollers behind one round-robin actor pool. Resources hold
/// only this handle, so the pollers behind it may live anywhere.
poller_actor spawn_pollers(caf::actor_system& sys, size_t count);

} // namespace urlpoll
