// A poller with the real interface and a scripted behaviour, for actor tests
// on the test coordinator: it answers from a script, or holds the request.
#pragma once

#include <deque>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/poller.hpp"

namespace urlpoll::test {

/// Tells a mock poller to answer every held request with this result.
using release_atom = caf::atom_constant<caf::atom("release")>;

/// A poller's interface, plus the test's handle on held requests.
using mock_poller_actor =
  poller_actor::extend<caf::reacts_to<release_atom, poll_result>>;

struct mock_poller_state {
  /// Every request received, in order.
  std::vector<poll_request> requests;
  /// Answers to give, in order; with none left, requests are held.
  std::deque<poll_result> script;
  /// Requests not answered yet.
  std::vector<caf::typed_response_promise<poll_result>> held;
  static inline const char* name = "mock_poller";
};

/// Answers from `script`, in order, then holds requests.
inline mock_poller_actor::behavior_type
mock_poller(mock_poller_actor::stateful_pointer<mock_poller_state> self,
            std::deque<poll_result> script) {
  for (auto& result : script)
    self->state.script.push_back(std::move(result));
  return {
    [=](poll_atom, poll_request& request) {
      auto& st = self->state;
      st.requests.push_back(request);
      auto promise = self->make_response_promise<poll_result>();
      if (st.script.empty()) {
        st.held.push_back(promise);
      } else {
        promise.deliver(st.script.front());
        st.script.pop_front();
      }
      return promise;
    },
    [=](release_atom, const poll_result& result) {
      for (auto& promise : self->state.held)
        promise.deliver(result);
      self->state.held.clear();
    },
  };
}

inline poll_result ok_result() {
  poll_result r;
  r.code = 200;
  r.status = "200 OK";
  r.latency = std::chrono::milliseconds{3};
  r.time = caf::make_timestamp();
  return r;
}

inline poll_result refused_result() {
  poll_result r;
  r.status = "connection refused";
  r.time = caf::make_timestamp();
  return r;
}

} // namespace urlpoll::test
