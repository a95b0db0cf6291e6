// poller: does the HTTP work.
//
// Owns:     a libcurl multi handle with its connections (kept alive and
//           reused per host), the transfers in flight and the polls waiting
//           for one of at most max-in-flight transfers.
// Receives: (poll_atom, poll_request) from a resource.
// Sends:    the poll_result back to that resource, when the transfer ends.
//
// Each poller runs on its own thread (libcurl blocks; CAF's scheduler threads
// must not) and keeps many transfers in flight at once. libcurl's own timeout
// bounds every transfer, so every request gets exactly one answer.
#pragma once

#include <cstddef>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace urlpoll {

/// Spawns `count` pollers behind one actor pool that fills the first poller
/// before spilling over to the next (see fill_first). Resources hold
/// only this handle, so the pollers behind it may live anywhere. Each poller
/// runs up to `max_in_flight` transfers at once; further polls wait in line.
/// Every result names `node`, which the User-Agent also carries
/// ("urlpoll/VERSION (node NAME)"), so that a server can tell the vantage
/// points apart.
poller_actor spawn_pollers(caf::actor_system& sys, size_t count,
                           size_t max_in_flight = 1000, std::string node = {});

} // namespace urlpoll
