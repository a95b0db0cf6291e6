#include "actors/worker.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace urlpoll {

worker_actor::behavior_type worker(worker_actor::pointer self, std::string name,
                                   poller_actor pollers) {
  return {
    [=](poll_atom, poll_request& request) {
      return self->delegate(pollers, poll_atom_v, std::move(request));
    },
    [=](hello_atom) { return name; },
  };
}

} // namespace urlpoll
