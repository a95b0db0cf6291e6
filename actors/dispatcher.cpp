#include "actors/dispatcher.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/health.hpp"
#include "actors/transfer_outcome.hpp"

namespace urlpoll {

std::string to_string(const worker_address& x) {
  auto host =
    x.host.find(':') != std::string::npos ? "[" + x.host + "]" : x.host;
  return host + ":" + std::to_string(x.port);
}

namespace {

using dispatcher_pointer = dispatcher_actor::stateful_pointer<dispatcher_state>;

// -- reporting ----------------------------------------------------------------

void report_nodes(dispatcher_pointer self) {
  auto& st = self->state;
  // A replaced dispatcher no longer speaks for the nodes.
  if (st.retiring)
    return;
  std::vector<node_status> nodes;
  nodes.reserve(st.nodes.size());
  for (auto& n : st.nodes) {
    nodes.push_back(n.status);
    nodes.back().in_flight = n.sends.size();
  }
  if (st.cfg.monitor)
    self->send(st.cfg.monitor, nodes_atom_v, std::move(nodes));
}

void check_ready(dispatcher_pointer self) {
  auto& st = self->state;
  auto all_tried = std::all_of(st.nodes.begin(), st.nodes.end(),
                               [](auto& n) { return n.tried; });
  if (!all_tried)
    return;
  for (auto& promise : st.awaiting_ready)
    promise.deliver(true);
  st.awaiting_ready.clear();
}

// A poll no node could make: it says nothing about the target, so its one
// view is unknown, and so is the verdict.
poll_result no_node_result(const std::string& why) {
  poll_result result;
  result.time = caf::make_timestamp();
  result.status = "no node could poll: " + why;
  result.views.push_back(node_view{"-", target_state::unknown, 0, why, {}});
  result.quorum = 1;
  return result;
}

// -- sending polls ------------------------------------------------------------

void dispatch(dispatcher_pointer self, uint64_t id);
void node_lost(dispatcher_pointer self, size_t index, const std::string& why);

// The next connected node after the round-robin position, preferring one
// other than `avoid`; st.nodes.size() when none is connected.
size_t pick_node(dispatcher_state& st, size_t avoid) {
  auto n = st.nodes.size();
  size_t fallback = n;
  for (size_t k = 0; k < n; ++k) {
    auto i = (st.next_node + k) % n;
    if (!st.nodes[i].status.connected)
      continue;
    if (i == avoid) {
      fallback = i;
      continue;
    }
    st.next_node = i + 1;
    return i;
  }
  return fallback;
}

void finish(dispatcher_pointer self, uint64_t id, poll_result result) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  i->second.promise.deliver(std::move(result));
  st.pending.erase(i);
  if (st.retiring && st.pending.empty())
    self->quit();
}

// A node failed to answer a spread poll: re-send it to another node, or, once
// every node was tried, answer that no node could make it.
void retry_spread(dispatcher_pointer self, uint64_t id,
                  const std::string& why) {
  auto& st = self->state;
  if (st.pending[id].tries >= st.nodes.size()) {
    finish(self, id, no_node_result(why));
    return;
  }
  dispatch(self, id);
}

// A node's part of a vantage poll ended. The poll ends when every part has,
// or as soon as the parts still open cannot change the verdict: a slow node
// never holds up a clear answer.
// A lost node's part stays open for the verdict: its last view, which the
// state monitor lets stand, could be down.
void close_part(dispatcher_pointer self, uint64_t id, size_t part,
                std::optional<poll_result> result, std::string problem,
                bool lost = false) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end() || !i->second.part_open[part])
    return;
  auto& poll = i->second;
  poll.part_open[part] = false;
  --poll.open;
  if (result)
    ++(classify(*result) == target_state::down ? poll.down : poll.up);
  if (lost)
    ++poll.standing;
  poll.parts[part].result = std::move(result);
  poll.parts[part].problem = std::move(problem);
  poll.parts[part].lost = lost;
  if (poll.open > 0 && !early_verdict(poll.up, poll.down,
                                      poll.open + poll.standing, poll.quorum))
    return;
  for (size_t k = 0; k < poll.parts.size(); ++k)
    if (poll.part_open[k])
      poll.parts[k].problem = "no answer yet: the others decided";
  finish(self, id, combine(poll.parts, poll.quorum));
}

// Sends poll `id` to node `index` and handles the answer or its absence.
// `part` is the vantage part, or -1 in spread mode. Each send has its own
// id: an answer for a send the node's loss or a re-send settled is dropped.
void send_to(dispatcher_pointer self, uint64_t id, size_t index,
             ptrdiff_t part) {
  auto& st = self->state;
  auto& poll = st.pending[id];
  auto& node = st.nodes[index];
  auto send = st.next_send++;
  node.sends.emplace(send, id);
  if (part >= 0)
    poll.part_send[static_cast<size_t>(part)] = send;
  else
    poll.send = send;
  auto limit = poll.request.timeout + st.cfg.grace;
  self->request(node.handle, limit, poll_atom_v, poll.request)
    .then(
      [=](poll_result& result) {
        auto& st = self->state;
        auto& node = st.nodes[index];
        if (node.sends.erase(send) == 0)
          return; // settled when the node was lost
        ++node.status.polls;
        if (part >= 0) {
          close_part(self, id, static_cast<size_t>(part), std::move(result),
                     {});
        } else if (auto i = st.pending.find(id);
                   i != st.pending.end() && i->second.send == send) {
          finish(self, id, std::move(result));
        }
      },
      [=](caf::error& err) {
        auto& st = self->state;
        auto& node = st.nodes[index];
        if (node.sends.erase(send) == 0)
          return;
        ++node.status.lost;
        auto why = err == caf::sec::request_timeout
                     ? "no answer within " + duration_text(limit)
                     : self->system().render(err);
        if (part >= 0)
          close_part(self, id, static_cast<size_t>(part), std::nullopt, why);
        else if (auto i = st.pending.find(id);
                 i != st.pending.end() && i->second.send == send)
          retry_spread(self, id, node.status.name + ": " + why);
      });
}

void dispatch(dispatcher_pointer self, uint64_t id) {
  auto& st = self->state;
  auto& poll = st.pending[id];
  if (st.cfg.mode == dispatch_mode::spread) {
    auto avoid = poll.tries == 0 ? st.nodes.size() : poll.node;
    auto index = pick_node(st, avoid);
    if (index == st.nodes.size()) {
      finish(self, id, no_node_result("no poller node is connected"));
      return;
    }
    poll.node = index;
    ++poll.tries;
    send_to(self, id, index, -1);
    return;
  }
  // Every connected node polls; a node lost within lost_node_expiry has a
  // part too, closed at once, where its last view will stand.
  auto now = self->clock().now();
  std::vector<size_t> live;
  std::vector<size_t> counted;
  for (size_t i = 0; i < st.nodes.size(); ++i) {
    auto& node = st.nodes[i];
    if (node.status.connected)
      live.push_back(i);
    else if (!node.lost_at || now - *node.lost_at >= st.cfg.lost_node_expiry)
      continue;
    counted.push_back(i);
  }
  if (live.empty()) {
    finish(self, id, no_node_result("no poller node is connected"));
    return;
  }
  poll.quorum = effective_quorum(st.cfg.quorum, counted.size());
  poll.open = live.size();
  poll.part_send.assign(counted.size(), 0);
  poll.part_open.assign(counted.size(), true);
  for (auto i : counted) {
    auto& node = st.nodes[i];
    poll.parts.push_back(node_poll{node.status.name, std::nullopt, {}, false});
    if (!node.status.connected) {
      poll.part_open[poll.parts.size() - 1] = false;
      poll.parts.back().problem = "lost (" + node.status.problem + ")";
      poll.parts.back().lost = true;
      ++poll.standing;
    }
  }
  for (size_t k = 0; k < counted.size(); ++k)
    if (poll.part_open[k])
      send_to(self, id, counted[k], static_cast<ptrdiff_t>(k));
}

// -- connections
// ----------------------------------------------------------------

void connect(dispatcher_pointer self, size_t index);

void schedule_reconnect(dispatcher_pointer self, size_t index) {
  auto& st = self->state;
  auto& node = st.nodes[index];
  node.backoff = node.backoff.count() == 0
                   ? st.cfg.min_reconnect
                   : std::min(node.backoff * 2, st.cfg.max_reconnect);
  self->delayed_send(self, node.backoff, reconnect_atom_v,
                     static_cast<uint32_t>(index));
}

// Why a connection attempt failed, in words that say what to check.
std::string link_problem(dispatcher_pointer self, const node_entry& node,
                         const caf::error& err) {
  auto where = to_string(node.address);
  if (err == caf::sec::cannot_connect_to_node)
    return "cannot connect to " + where + ": is a worker running there?";
  if (err == caf::sec::disconnect_during_handshake)
    return self->state.cfg.tls
             ? "the worker at " + where +
                 " ended the TLS handshake: its "
                 "certificate and this node's must come from the CA in "
                 "openssl.cafile, on both sides"
             : "the worker at " + where +
                 " closed the connection during the "
                 "handshake: it may require TLS (set openssl.certificate, "
                 "openssl.key and openssl.cafile here too)";
  if (err == caf::sec::request_timeout || err == caf::sec::connection_timeout)
    return "no answer from " + where + " within " +
           duration_text(self->state.cfg.connect_timeout) +
           ": is it stopped, or cut off?";
  if (err == caf::exit_reason::remote_link_unreachable)
    return "the link to " + where +
           " broke: the worker died, restarted or "
           "was cut off (a silent link counts as cut off after "
           "middleman.connection-timeout)";
  return self->system().render(err);
}

void connect_failed(dispatcher_pointer self, size_t index,
                    const std::string& why) {
  auto& node = self->state.nodes[index];
  node.status.problem = why;
  node.tried = true;
  report_nodes(self);
  check_ready(self);
  schedule_reconnect(self, index);
}

// The node went away or answered nothing: its polls go elsewhere (spread)
// or count as its failure (vantage), and it gets reconnected.
void node_lost(dispatcher_pointer self, size_t index, const std::string& why) {
  auto& st = self->state;
  auto& node = st.nodes[index];
  if (!node.status.connected)
    return;
  node.status.connected = false;
  node.status.since = caf::make_timestamp();
  node.lost_at = self->clock().now();
  node.status.problem = why;
  node.handle = nullptr;
  auto sends = std::move(node.sends);
  node.sends.clear();
  node.status.lost += sends.size();
  auto reason = "lost (" + why + ")";
  for (auto [send, id] : sends) {
    auto i = st.pending.find(id);
    if (i == st.pending.end())
      continue;
    auto& poll = i->second;
    if (st.cfg.mode == dispatch_mode::spread) {
      if (poll.send == send)
        retry_spread(self, id, node.status.name + ": " + reason);
      continue;
    }
    // One part per node; closing it may end the poll and erase `poll`.
    for (size_t k = 0; k < poll.part_send.size(); ++k)
      if (poll.part_send[k] == send) {
        close_part(self, id, k, std::nullopt, reason, true);
        break;
      }
  }
  report_nodes(self);
  if (node.remote)
    schedule_reconnect(self, index);
}

// A name seen twice gets its address, so that views stay apart.
std::string unique_name(const dispatcher_state& st, size_t index,
                        std::string name) {
  for (size_t i = 0; i < st.nodes.size(); ++i)
    if (i != index && st.nodes[i].status.name == name)
      return name + "@" + st.nodes[index].status.address;
  return name;
}

void connected(dispatcher_pointer self, size_t index, worker_actor worker,
               std::string name) {
  auto& st = self->state;
  auto& node = st.nodes[index];
  node.status.name = unique_name(st, index, std::move(name));
  node.status.connected = true;
  node.status.since = caf::make_timestamp();
  node.status.problem.clear();
  node.lost_at.reset();
  node.backoff = caf::timespan{0};
  node.handle = caf::actor_cast<poller_actor>(worker);
  node.tried = true;
  self->monitor(worker);
  report_nodes(self);
  check_ready(self);
}

void connect(dispatcher_pointer self, size_t index) {
  auto& st = self->state;
  auto& node = st.nodes[index];
  auto& sys = self->system();
  auto connector = st.cfg.tls ? sys.openssl_manager().actor_handle()
                              : sys.middleman().actor_handle();
  auto timeout = st.cfg.connect_timeout;
  self
    ->request(connector, timeout, caf::connect_atom_v, node.address.host,
              node.address.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>&) {
        if (!ptr) {
          connect_failed(self, index, "nothing is published there");
          return;
        }
        auto worker = caf::actor_cast<worker_actor>(ptr);
        self->request(worker, timeout, hello_atom_v)
          .then(
            [=](std::string& name) {
              connected(self, index, worker, std::move(name));
            },
            [=](caf::error& err) {
              connect_failed(self, index,
                             "not an urlpoll worker, or too slow to say "
                             "hello: " +
                               self->system().render(err));
            });
      },
      [=](caf::error& err) {
        connect_failed(self, index,
                       link_problem(self, self->state.nodes[index], err));
      });
}

} // namespace

dispatcher_actor::behavior_type
dispatcher(dispatcher_actor::stateful_pointer<dispatcher_state> self,
           dispatcher_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  for (auto& [name, pollers] : st.cfg.local) {
    node_entry local;
    local.status.name = name;
    local.status.address = "local";
    local.status.connected = true;
    local.status.since = caf::make_timestamp();
    local.handle = pollers;
    local.tried = true;
    self->monitor(pollers);
    st.nodes.push_back(std::move(local));
  }
  for (auto& address : st.cfg.workers) {
    node_entry node;
    node.remote = true;
    node.address = address;
    node.status.address = to_string(address);
    node.status.name = node.status.address;
    node.status.problem = "not connected yet";
    st.nodes.push_back(std::move(node));
  }
  for (size_t i = 0; i < st.nodes.size(); ++i)
    if (st.nodes[i].remote)
      connect(self, i);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (size_t i = 0; i < st.nodes.size(); ++i)
      if (st.nodes[i].handle && st.nodes[i].handle.address() == msg.source)
        node_lost(self, i, link_problem(self, st.nodes[i], msg.reason));
  });
  self->delayed_send(self, st.cfg.report_interval, report_atom_v);
  report_nodes(self);
  return {
    [=](poll_atom, poll_request& request) {
      auto& st = self->state;
      auto id = st.next_id++;
      auto& poll = st.pending[id];
      poll.request = std::move(request);
      poll.promise = self->make_response_promise<poll_result>();
      auto promise = poll.promise;
      dispatch(self, id);
      return promise;
    },
    [=](ready_atom) {
      auto promise = self->make_response_promise<bool>();
      self->state.awaiting_ready.push_back(promise);
      check_ready(self);
      return promise;
    },
    [=](reconnect_atom, uint32_t index) {
      if (index < self->state.nodes.size() &&
          !self->state.nodes[index].status.connected)
        connect(self, index);
    },
    [=](report_atom) {
      report_nodes(self);
      self->delayed_send(self, self->state.cfg.report_interval, report_atom_v);
    },
    [=](retire_atom) {
      self->state.retiring = true;
      if (self->state.pending.empty())
        self->quit();
    },
  };
}

} // namespace urlpoll
