// worker: a worker node's face to the coordinators, published on
// urlpoll.listen.
//
// Owns:     nothing that matters: the node's name and the handle of the
//           node's poller pool. A coordinator that restarts simply connects
//           again.
// Receives: (poll_atom, poll_request) from a coordinator's dispatcher, handed
//           on to the pool, which answers the dispatcher directly;
//           (hello_atom) -> the node's name.
#pragma once

#include <string>

#include "actors/interfaces.hpp"

namespace urlpoll {

worker_actor::behavior_type worker(worker_actor::pointer self, std::string name,
                                   poller_actor pollers);

} // namespace urlpoll
