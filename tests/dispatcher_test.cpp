// The dispatcher's bookkeeping on the test coordinator: nodes are mock
// pollers in this process, a node is lost by killing its mock, and request
// timeouts fire when the test moves the clock.
#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>

#include "actors/dispatcher.hpp"
#include "actors/health.hpp"
#include "support/actor_fixtures.hpp"
#include "support/mock_poller.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

poll_result unavailable_result() {
  auto r = ok_result();
  r.code = 503;
  r.status = "503 Service Unavailable";
  return r;
}

using results = std::shared_ptr<std::vector<poll_result>>;

// Sends one poll and keeps every answer it gets (there must be one).
void client(caf::event_based_actor* self, dispatcher_actor nodes,
            poll_request request, results out) {
  self->request(nodes, caf::infinite, poll_atom_v, std::move(request))
    .then([=](poll_result& r) { out->push_back(std::move(r)); });
}

struct dispatcher_fixture : deterministic_fixture {
  std::vector<mock_poller_actor> mocks;
  dispatcher_actor nodes;
  results answers = std::make_shared<std::vector<poll_result>>();

  ~dispatcher_fixture() {
    for (auto& m : mocks)
      caf::anon_send_exit(m, caf::exit_reason::user_shutdown);
    if (nodes)
      caf::anon_send_exit(nodes, caf::exit_reason::user_shutdown);
    run();
  }

  // Nodes a, b, c, ... each a mock poller answering from its script.
  void start(dispatch_mode mode, std::vector<std::deque<poll_result>> scripts,
             uint32_t quorum = 0) {
    dispatcher_config cfg;
    cfg.mode = mode;
    cfg.quorum = quorum;
    cfg.grace = 5s;
    for (size_t i = 0; i < scripts.size(); ++i) {
      mocks.push_back(sys.spawn(mock_poller, scripts[i]));
      cfg.local.emplace_back(std::string(1, static_cast<char>('a' + i)),
                             caf::actor_cast<poller_actor>(mocks.back()));
    }
    nodes = sys.spawn(dispatcher, std::move(cfg));
    run();
  }

  void poll(std::string url = "http://t.example/") {
    poll_request request;
    request.url = std::move(url);
    request.timeout = 10s;
    sys.spawn(client, nodes, request, answers);
    run();
  }

  mock_poller_state& mock(size_t i) {
    return state_of<mock_poller_state>(mocks.at(i));
  }

  dispatcher_state& state() { return state_of<dispatcher_state>(nodes); }

  void kill(size_t i) {
    caf::anon_send_exit(mocks.at(i), caf::exit_reason::kill);
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(dispatcher_fixture, "spread sends each poll to one node, "
                                      "round robin") {
  start(dispatch_mode::spread, {{ok_result(), ok_result()},
                                {ok_result(), ok_result()},
                                {ok_result(), ok_result()}});
  for (int i = 0; i < 6; ++i)
    poll();
  CHECK(answers->size() == 6);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(mock(i).requests.size() == 2);
    CHECK(state().nodes[i].status.polls == 2);
  }
}

TEST_CASE_FIXTURE(dispatcher_fixture, "spread: a node's polls in flight go to "
                                      "another node when it dies") {
  // a holds its polls; b answers.
  start(dispatch_mode::spread, {{}, {ok_result(), ok_result()}});
  poll("http://one.example/");
  REQUIRE(mock(0).requests.size() == 1);
  CHECK(answers->empty());
  CHECK(state().nodes[0].sends.size() == 1);
  kill(0);
  REQUIRE(answers->size() == 1);
  CHECK((*answers)[0].code == 200);
  CHECK(mock(1).requests.size() == 1);
  CHECK(mock(1).requests[0].url == "http://one.example/");
  auto& a = state().nodes[0].status;
  CHECK_FALSE(a.connected);
  CHECK(a.lost == 1);
  // A dead node gets no more polls.
  poll();
  CHECK(answers->size() == 2);
  CHECK(mock(1).requests.size() == 2);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "spread: a node too slow to answer "
                                      "loses the poll to another node") {
  start(dispatch_mode::spread, {{}, {ok_result()}});
  poll();
  CHECK(answers->empty());
  // The poll's timeout (10s) plus the grace (5s).
  advance(14s);
  CHECK(answers->empty());
  advance(2s);
  REQUIRE(answers->size() == 1);
  CHECK((*answers)[0].code == 200);
  CHECK(state().nodes[0].status.connected);
  CHECK(state().nodes[0].status.lost == 1);
  // The slow node's late answer changes nothing: one result per poll.
  caf::anon_send(mocks[0], release_atom::value, unavailable_result());
  run();
  CHECK(answers->size() == 1);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "spread: when every node fails a poll, "
                                      "the result is unknown, not down") {
  start(dispatch_mode::spread, {{}, {}});
  poll();
  kill(0);
  CHECK(answers->empty());
  kill(1);
  REQUIRE(answers->size() == 1);
  auto& r = (*answers)[0];
  CHECK(classify(r) == target_state::unknown);
  CHECK(r.status.rfind("no node could poll: ", 0) == 0);
  // With no node left, a poll is answered at once.
  poll();
  REQUIRE(answers->size() == 2);
  CHECK((*answers)[1].status == "no node could poll: no poller node is "
                                "connected");
}

TEST_CASE_FIXTURE(dispatcher_fixture, "vantage sends each poll to every node "
                                      "and decides by quorum") {
  start(dispatch_mode::vantage, {{ok_result(), ok_result()},
                                 {unavailable_result(), unavailable_result()},
                                 {ok_result(), unavailable_result()}});
  poll();
  REQUIRE(answers->size() == 1);
  auto& first = (*answers)[0];
  CHECK(first.views.size() == 3);
  CHECK(first.quorum == 2);
  CHECK(classify(first) == target_state::up);
  CHECK(first.status == "200 OK (down on 1 of 3 nodes: b)");
  poll();
  REQUIRE(answers->size() == 2);
  CHECK(classify((*answers)[1]) == target_state::down);
  for (size_t i = 0; i < 3; ++i)
    CHECK(mock(i).requests.size() == 2);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "vantage: a node that dies counts as "
                                      "its own failure, not the target's") {
  start(dispatch_mode::vantage, {{}, {unavailable_result()}, {ok_result()}});
  poll();
  CHECK(answers->empty());
  kill(0);
  REQUIRE(answers->size() == 1);
  auto& r = (*answers)[0];
  CHECK(classify(r) == target_state::up);
  CHECK(r.views[0].state == target_state::unknown);
  CHECK(r.views[0].status.rfind("lost (", 0) == 0);
  CHECK(r.views[0].lost);
  // The next poll goes to the two nodes left, majority 2.
  mock(1).script.push_back(unavailable_result());
  mock(2).script.push_back(unavailable_result());
  poll();
  REQUIRE(answers->size() == 2);
  CHECK((*answers)[1].quorum == 2);
  CHECK(classify((*answers)[1]) == target_state::down);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "vantage: a lost node keeps its part, "
                                      "where its last view stands, until "
                                      "lost-node-expiry") {
  start(dispatch_mode::vantage,
        {{ok_result()}, {unavailable_result()}, {unavailable_result()}});
  poll();
  REQUIRE(answers->size() == 1);
  kill(0);
  // a is lost: it keeps its part, closed at once, and counts in the quorum
  // of 3 nodes (2). Its view could be down, so b's up alone decides
  // nothing early: the poll waits for c.
  mock(1).script.push_back(ok_result());
  poll();
  CHECK(answers->size() == 1);
  caf::anon_send(mocks[2], release_atom::value, unavailable_result());
  run();
  REQUIRE(answers->size() == 2);
  auto& r = (*answers)[1];
  REQUIRE(r.views.size() == 3);
  CHECK(r.quorum == 2);
  CHECK(r.views[0].lost);
  CHECK(r.views[0].node == "a");
  CHECK(r.views[0].status.rfind("lost (", 0) == 0);
  CHECK(mock(1).requests.size() == 2);
  // After lost-node-expiry (5min) a no longer counts: 2 nodes, quorum 2.
  advance(5min);
  mock(1).script.push_back(ok_result());
  mock(2).script.push_back(ok_result());
  poll();
  REQUIRE(answers->size() == 3);
  CHECK((*answers)[2].views.size() == 2);
  CHECK((*answers)[2].quorum == 2);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "vantage: a configured quorum of 1 "
                                      "makes one node's view enough") {
  start(dispatch_mode::vantage, {{ok_result()}, {unavailable_result()}}, 1);
  poll();
  REQUIRE(answers->size() == 1);
  CHECK(classify((*answers)[0]) == target_state::down);
}

TEST_CASE_FIXTURE(dispatcher_fixture, "with local nodes only, the dispatcher "
                                      "is ready at once and reports them") {
  start(dispatch_mode::spread, {{}, {}});
  auto& st = state();
  CHECK(st.nodes.size() == 2);
  CHECK(st.nodes[0].status.name == "a");
  CHECK(st.nodes[0].status.address == "local");
  CHECK(std::all_of(st.nodes.begin(), st.nodes.end(),
                    [](auto& n) { return n.tried; }));
}

TEST_CASE_FIXTURE(dispatcher_fixture, "vantage: a slow node does not hold up "
                                      "a verdict the others made") {
  // a holds its poll; b and c agree the target is up: a cannot change that.
  start(dispatch_mode::vantage, {{}, {ok_result()}, {ok_result()}});
  poll();
  REQUIRE(answers->size() == 1);
  auto& r = (*answers)[0];
  CHECK(classify(r) == target_state::up);
  CHECK(r.views[0].state == target_state::unknown);
  CHECK(r.views[0].status == "no answer yet: the others decided");
  CHECK(state().nodes[0].sends.size() == 1);
  // Its late answer is dropped: still one result per poll.
  caf::anon_send(mocks[0], release_atom::value, unavailable_result());
  run();
  CHECK(answers->size() == 1);
  CHECK(state().nodes[0].sends.empty());
  CHECK(state().pending.empty());
}
