// dispatcher: a coordinator's poller pool, made of nodes.
//
// Owns:     the nodes (the local poller pool, and each worker in
//           urlpoll.workers: its connection, name, counters) and every poll
//           in flight: which node has it, and in vantage mode what each node
//           answered so far.
// Receives: (poll_atom, poll_request) from resources, answered with one
//           poll_result each, exactly as a local pool would;
//           (ready_atom) -> true once every worker was tried once;
//           (reconnect_atom, N) from itself, when worker N is due for
//           another connection attempt;
//           (report_atom) from itself, every report interval;
//           (retire_atom) from the reloader, which replaced it: stop
//           reporting, answer the polls in flight, then stop;
//           a down message when a worker dies or its link breaks.
// Sends:    (poll_atom, poll_request) to the nodes, with a timeout (the poll's
//           own plus a grace), so that a slow node never holds a poll up;
//           (nodes_atom, nodes) to the state monitor.
//
// spread:  each poll goes to one connected node, round robin. A poll whose
//          node dies or times out goes to the next node, so no target misses
//          a poll for a node's fault while another node is connected.
// vantage: each poll goes to every connected node; the answer carries every
//          node's view and the quorum (see vantage.hpp). A node that times
//          out counts as that node's failure in that poll's views, never as
//          the target's. A node that is lost (it died, its link broke) keeps
//          a part, marked lost, in every poll for lost_node_expiry: the state
//          monitor lets its last view of the target stand there, so that
//          losing a node never changes a verdict by itself.
//
//   worker:  [connecting] --(hello answered)--> [connected]
//               ^   |  (failed)                      | (down)
//               |   v                                v
//             [waiting: back-off, 1s doubling up to 30s]
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/interfaces.hpp"
#include "actors/vantage.hpp"

namespace urlpoll {

enum class dispatch_mode { spread, vantage };

/// host:port of a worker.
struct worker_address {
  std::string host;
  uint16_t port = 0;
};

/// "host:port", with brackets around an IPv6 host.
std::string to_string(const worker_address& x);

struct dispatcher_config {
  dispatch_mode mode = dispatch_mode::spread;
  /// Vantage mode: nodes that must see a target down; 0 is a majority.
  uint32_t quorum = 0;
  /// Vantage mode: how long a lost node still counts, its last view of each
  /// target standing in for the polls it cannot make (so that losing a node
  /// never changes a verdict by itself). After that the quorum is taken
  /// over the nodes left.
  caf::timespan lost_node_expiry = std::chrono::minutes{5};
  std::vector<worker_address> workers;
  /// Poller pools in this process, each one node: the coordinator's own
  /// pollers (none with local-pollers off). A local pool that dies is a node
  /// lost, like a worker.
  std::vector<std::pair<std::string, poller_actor>> local;
  /// Connect through libcaf_openssl (mutual certificate checks).
  bool tls = false;
  /// A node's answer may come this much later than the poll's timeout.
  caf::timespan grace = std::chrono::seconds{5};
  caf::timespan connect_timeout = std::chrono::seconds{5};
  caf::timespan min_reconnect = std::chrono::seconds{1};
  caf::timespan max_reconnect = std::chrono::seconds{30};
  /// How often the state monitor hears about the nodes.
  caf::timespan report_interval = std::chrono::seconds{1};
  state_monitor_actor monitor;
};

/// One poll on its way through the nodes.
struct pending_poll {
  poll_request request;
  caf::typed_response_promise<poll_result> promise;
  /// spread: the node that has it, its send, and how many nodes were tried.
  size_t node = 0;
  uint64_t send = 0;
  size_t tries = 0;
  /// vantage: one part per node polled, the send of each, which are still
  /// open, the verdicts so far, and the quorum fixed when the poll went out.
  std::vector<node_poll> parts;
  std::vector<uint64_t> part_send;
  std::vector<bool> part_open;
  size_t open = 0;
  /// Parts of lost nodes: their last views stand, and could be down.
  size_t standing = 0;
  size_t up = 0;
  size_t down = 0;
  uint32_t quorum = 0;
};

struct node_entry {
  node_status status;
  /// Valid while connected.
  poller_actor handle;
  /// Invalid for the local node.
  bool remote = false;
  worker_address address;
  caf::timespan backoff{0};
  /// A connection attempt ended, or the node is local.
  bool tried = false;
  /// When the node was lost after it had been connected (steady clock);
  /// its last views stand until lost_node_expiry after that.
  std::optional<caf::actor_clock::time_point> lost_at;
  /// What this node has in flight: send id -> poll id.
  std::unordered_map<uint64_t, uint64_t> sends;
};

struct dispatcher_state {
  dispatcher_config cfg;
  std::vector<node_entry> nodes;
  std::unordered_map<uint64_t, pending_poll> pending;
  uint64_t next_id = 0;
  uint64_t next_send = 1;
  /// Round robin over the nodes.
  size_t next_node = 0;
  std::vector<caf::typed_response_promise<bool>> awaiting_ready;
  /// Replaced by a reload: stops once the polls in flight are answered.
  bool retiring = false;
  static inline const char* name = "dispatcher";
};

dispatcher_actor::behavior_type
dispatcher(dispatcher_actor::stateful_pointer<dispatcher_state> self,
           dispatcher_config cfg);

} // namespace urlpoll
