// A poller node as the coordinator sees it: what the snapshot and the
// periodic log show about the nodes of a distributed run.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace urlpoll {

struct node_status {
  /// The node's name (urlpoll.node-name on that node).
  std::string name;
  /// host:port of a worker; "local" for the coordinator's own pollers.
  std::string address;
  bool connected = false;
  /// When the node last connected or was lost; the epoch before either.
  caf::timestamp since;
  /// Polls the node answered.
  uint64_t polls = 0;
  /// Polls sent to the node and not yet answered.
  uint64_t in_flight = 0;
  /// Polls the node failed to answer (lost or timed out), each re-sent
  /// elsewhere or, in vantage mode, counted as that node's failure.
  uint64_t lost = 0;
  /// Why the node is not connected, when it is not.
  std::string problem;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.name, x.address, x.connected,
           x.since, x.polls, x.in_flight, x.lost, x.problem);
}

} // namespace urlpoll
