// Vantage mode's rule: every node polls a target, and the target is down only
// when a quorum of them see it down. Pure functions, shared by the dispatcher
// (which combines the nodes' results) and the health rule (which classifies
// a combined result), tested without a network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/poll.hpp"

namespace urlpoll {

/// More than half of `nodes`: the default quorum.
uint32_t majority(size_t nodes);

/// The quorum for one poll that went to `polled` nodes: the configured one,
/// or a majority when it is 0, and never more than `polled`, so that a
/// target can still be called down while nodes are missing.
uint32_t effective_quorum(uint32_t configured, size_t polled);

/// Down when at least `quorum` views are down; otherwise up when any view is
/// up, degraded when the views that are not down are; unknown when no node
/// could poll (a node's own failure is never the target's).
target_state verdict(const std::vector<node_view>& views, uint32_t quorum);

/// Each node's view as JSON, the one vocabulary of the snapshot, the events
/// and the webhooks: [{"node", "state", "status", "code", "latency_ms",
/// "lost"}], with code and latency null where the node got no HTTP answer,
/// and lost true where a lost node's last view stands.
nlohmann::ordered_json views_json(const std::vector<node_view>& views);

/// The verdict once it can no longer change, with `up` and `down` views in
/// and `open` nodes still to answer: down once `quorum` nodes see it down; up
/// once some node sees it up and the open ones could not make a quorum down.
/// nullopt while the open nodes could still decide it.
std::optional<target_state> early_verdict(size_t up, size_t down, size_t open,
                                          uint32_t quorum);

/// One node's part in a vantage poll: its result, or why it has none.
struct node_poll {
  std::string node;
  std::optional<poll_result> result;
  /// Why there is no result: "lost: ...", "no answer within 12s".
  std::string problem;
  /// The node was lost: its last view of the target stands for this part.
  bool lost = false;
};

/// One result out of every node's: the views, the quorum, and code, status,
/// latency and timings from a node whose view agrees with the verdict. The
/// status says how many nodes disagree, e.g. "503 Service Unavailable (down
/// on 2 of 3 nodes)" or "200 OK (down on 1 of 3 nodes: b)".
poll_result combine(const std::vector<node_poll>& polls, uint32_t quorum);

/// A lost node's last view stands: each view of `result` marked lost takes
/// the same node's view from `previous` (the target's views after its last
/// poll) when that one knew the target's state, and the verdict, status,
/// code and latency are taken again over the views. nullopt when no view
/// stood in, or when no node still polling saw the target (old views alone
/// make no verdict): then `result` holds as it is.
std::optional<poll_result>
with_standing_views(const poll_result& result,
                    const std::vector<node_view>& previous);

} // namespace urlpoll
