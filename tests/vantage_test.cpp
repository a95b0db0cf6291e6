#include <doctest/doctest.h>

#include "actors/health.hpp"
#include "actors/vantage.hpp"

using namespace urlpoll;

namespace {

poll_result answer(uint16_t code, std::string status, std::string node) {
  poll_result r;
  r.code = code;
  r.status = std::move(status);
  r.node = std::move(node);
  return r;
}

node_poll ok(const std::string& node) {
  return {node, answer(200, "200 OK", node), {}};
}

node_poll unavailable(const std::string& node) {
  return {node, answer(503, "503 Service Unavailable", node), {}};
}

node_poll lost(const std::string& node) {
  return {node, std::nullopt, "lost (connection closed)"};
}

} // namespace

TEST_CASE("the default quorum is a majority of the nodes polled") {
  CHECK(majority(1) == 1);
  CHECK(majority(2) == 2);
  CHECK(majority(3) == 2);
  CHECK(majority(4) == 3);
  CHECK(majority(5) == 3);
  CHECK(effective_quorum(0, 3) == 2);
  CHECK(effective_quorum(1, 3) == 1);
  // Never more than the nodes polled: with nodes missing, down stays
  // reachable.
  CHECK(effective_quorum(3, 2) == 2);
  CHECK(effective_quorum(0, 0) == 1);
}

TEST_CASE("one node alone seeing a failure does not make the target down") {
  auto r = combine({ok("a"), unavailable("b"), ok("c")}, 2);
  CHECK(classify(r) == target_state::up);
  CHECK(r.code == 200);
  CHECK(r.node == "a");
  CHECK(r.status == "200 OK (down on 1 of 3 nodes: b)");
  REQUIRE(r.views.size() == 3);
  CHECK(r.views[1].state == target_state::down);
  CHECK(r.views[1].code == 503);
  CHECK(r.quorum == 2);
}

TEST_CASE("two of three nodes seeing a failure make the target down") {
  auto r = combine({ok("a"), unavailable("b"), unavailable("c")}, 2);
  CHECK(classify(r) == target_state::down);
  CHECK(r.code == 503);
  CHECK(r.node == "b");
  CHECK(r.status == "503 Service Unavailable (down on 2 of 3 nodes)");
}

TEST_CASE("a node's own failure never counts against the target") {
  auto r = combine({lost("a"), unavailable("b"), ok("c")}, 2);
  CHECK(classify(r) == target_state::up);
  CHECK(r.views[0].state == target_state::unknown);
  CHECK(r.views[0].status == "lost (connection closed)");
  // With the quorum at 1, the one node that sees it down is enough.
  CHECK(classify(combine({lost("a"), unavailable("b")}, 1)) ==
        target_state::down);
}

TEST_CASE("when no node could poll, the target's state is unknown") {
  auto r = combine({lost("a"), lost("b")}, 1);
  CHECK(classify(r) == target_state::unknown);
  CHECK(r.status == "no node could poll: a: lost (connection closed); b: lost "
                    "(connection closed)");
  // ...and the status map keeps what it knew, counting the poll only.
  target_status status;
  std::vector<transition> history;
  record(status, history, answer(200, "200 OK", "a"));
  record(status, history, r);
  CHECK(status.state == target_state::up);
  CHECK(status.polls == 2);
  CHECK(status.failures == 0);
  CHECK(status.status == r.status);
}

TEST_CASE("a verdict is final once the nodes still polling cannot change it") {
  // 3 nodes, quorum 2.
  CHECK(early_verdict(0, 2, 1, 2) == target_state::down);
  CHECK(early_verdict(2, 0, 1, 2) == target_state::up);
  CHECK(early_verdict(1, 1, 1, 2) == std::nullopt);
  CHECK(early_verdict(1, 0, 2, 2) == std::nullopt);
  CHECK(early_verdict(0, 1, 2, 2) == std::nullopt);
  // Nothing in yet: nothing decided.
  CHECK(early_verdict(0, 0, 3, 2) == std::nullopt);
  // Quorum 1: the first down decides.
  CHECK(early_verdict(0, 1, 2, 1) == target_state::down);
}

TEST_CASE("the node that speaks for the target brings its certificate and "
          "its refused HEAD") {
  auto a = ok("a");
  a.result->cert_expiry = caf::timestamp{} + std::chrono::hours{24 * 400};
  a.result->head_refused = true;
  auto r = combine({a, unavailable("b"), ok("c")}, 2);
  CHECK(r.node == "a");
  CHECK(r.cert_expiry == a.result->cert_expiry);
  CHECK(r.head_refused);
  CHECK(r.views.size() == 3);
  CHECK(r.quorum == 2);
}

namespace {

node_poll gone(const std::string& node) {
  return {node, std::nullopt, "lost (connection closed)", true};
}

} // namespace

TEST_CASE("a lost node's last view stands: losing one of the two nodes that "
          "saw a target down keeps it down") {
  target_status status;
  std::vector<transition> history;
  record(status, history,
         combine({unavailable("a"), unavailable("b"), ok("c")}, 2));
  REQUIRE(status.state == target_state::down);
  // b is lost: a alone sees it down, c up. Without b's standing view that
  // would be "up"; with it, nothing changed.
  auto next = combine({unavailable("a"), gone("b"), ok("c")}, 2);
  CHECK(classify(next) == target_state::up);
  auto change = record(status, history, next);
  CHECK_FALSE(change);
  CHECK(status.state == target_state::down);
  CHECK(status.status == "503 Service Unavailable (down on 2 of 3 nodes)");
  REQUIRE(status.views.size() == 3);
  CHECK(status.views[1].lost);
  CHECK(status.views[1].state == target_state::down);
  CHECK(status.views[1].code == 503);
  CHECK(status.views[1].status ==
        "lost (connection closed); its last view stands: 503 Service "
        "Unavailable");
  // While b stays lost its view keeps standing, in the same words.
  record(status, history, combine({unavailable("a"), gone("b"), ok("c")}, 2));
  CHECK(status.state == target_state::down);
  CHECK(status.views[1].status ==
        "lost (connection closed); its last view stands: 503 Service "
        "Unavailable");
  // b back, seeing it up: now the target is up, by the nodes' own views.
  record(status, history, combine({unavailable("a"), ok("b"), ok("c")}, 2));
  CHECK(status.state == target_state::up);
  CHECK_FALSE(status.views[1].lost);
}

TEST_CASE("a lost node's standing view also keeps a target up, and speaks "
          "when the nodes still polling disagree") {
  // a and b saw it up, c down; a is lost and b now sees it down: one fresh
  // down, one fresh up, a's up standing: up, as before.
  std::vector<node_view> previous = {
    {"a", target_state::up, 200, "200 OK", std::chrono::milliseconds{3}},
    {"b", target_state::up, 200, "200 OK", std::chrono::milliseconds{4}},
    {"c", target_state::down, 503, "503 Service Unavailable", {}}};
  auto next = combine({gone("a"), unavailable("b"), unavailable("c")}, 2);
  CHECK(classify(next) == target_state::down);
  auto stood = with_standing_views(next, previous);
  REQUIRE(stood);
  CHECK(classify(*stood) == target_state::down);
  // Quorum 3 (all must agree): a's standing up view now makes it up, and a
  // speaks, being the only node that saw it so.
  next = combine({gone("a"), unavailable("b"), unavailable("c")}, 3);
  stood = with_standing_views(next, previous);
  REQUIRE(stood);
  CHECK(classify(*stood) == target_state::up);
  CHECK(stood->node == "a");
  CHECK(stood->code == 200);
  CHECK(stood->status == "200 OK (down on 2 of 3 nodes: b, c)");
}

TEST_CASE("standing views alone make no verdict, and a node that never saw "
          "the target has none to stand") {
  std::vector<node_view> previous = {
    {"a", target_state::down, 503, "503 Service Unavailable", {}}};
  // Only a's old view, b lost too: nothing fresh.
  auto none = combine({gone("a"), lost("b")}, 2);
  CHECK_FALSE(with_standing_views(none, previous));
  // b has no earlier view: nothing stands for it, the result holds.
  auto fresh = combine({ok("a"), gone("b")}, 2);
  CHECK_FALSE(with_standing_views(fresh, previous));
}
