// The status of every target at one moment: what the state monitor owns and
// hands out by copy, and what every output of urlpoll shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "messages/node.hpp"
#include "messages/poll.hpp"

namespace urlpoll {

/// The latest known state of one target.
struct target_status {
  /// The URL with any password replaced by ***.
  std::string url;
  target_state state = target_state::unknown;
  /// "200 OK" or the transport error in words; empty before the first poll.
  std::string status;
  /// The last HTTP status code, 0 when there was none.
  uint16_t code = 0;
  caf::timespan latency{0};
  poll_timings timings;
  uint64_t polls = 0;
  uint64_t failures = 0;
  uint64_t consecutive_failures = 0;
  /// When the last poll started; the epoch when there was none.
  caf::timestamp last_poll;
  /// When `state` last changed; the epoch when it never did.
  caf::timestamp last_change;
  /// The node that made the last poll.
  std::string node;
  /// Vantage mode: each node's view at the last poll, and the quorum.
  std::vector<node_view> views;
  uint32_t quorum = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, target_status& x) {
  return f(caf::meta::type_name("target_status"), x.url, x.state, x.status,
           x.code, x.latency, x.timings, x.polls, x.failures,
           x.consecutive_failures, x.last_poll, x.last_change, x.node, x.views,
           x.quorum);
}

/// How late polls started against their due time, over the recent polls.
struct lateness_summary {
  caf::timespan p50{0};
  caf::timespan p99{0};
  caf::timespan max{0};
  /// How many polls the figures cover.
  uint64_t samples = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lateness_summary& x) {
  return f(caf::meta::type_name("lateness_summary"), x.p50, x.p99, x.max,
           x.samples);
}

/// The status of every target, in configuration order.
struct snapshot {
  caf::timestamp time;
  lateness_summary lateness;
  /// The poller nodes of a coordinator; empty when standalone.
  std::vector<node_status> nodes;
  std::vector<target_status> targets;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("snapshot"), x.time, x.lateness, x.nodes,
           x.targets);
}

} // namespace urlpoll
