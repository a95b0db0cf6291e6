#include "actors/vantage.hpp"

#include <algorithm>

#include "actors/health.hpp"

namespace urlpoll {

uint32_t majority(size_t nodes) {
  return static_cast<uint32_t>(nodes / 2 + 1);
}

uint32_t effective_quorum(uint32_t configured, size_t polled) {
  auto wanted = configured > 0 ? configured : majority(polled);
  return static_cast<uint32_t>(
    std::min<size_t>(wanted, std::max<size_t>(polled, 1)));
}

target_state verdict(const std::vector<node_view>& views, uint32_t quorum) {
  size_t down = 0;
  size_t up = 0;
  size_t degraded = 0;
  for (auto& v : views) {
    down += v.state == target_state::down ? 1 : 0;
    up += v.state == target_state::up ? 1 : 0;
    degraded += v.state == target_state::degraded ? 1 : 0;
  }
  if (down > 0 && down >= std::max<uint32_t>(quorum, 1))
    return target_state::down;
  // Not down by quorum: up when a node saw it up (or when only a minority
  // saw it down), degraded when the others saw it slow.
  if (up > 0 || (down > 0 && degraded == 0))
    return target_state::up;
  if (degraded > 0)
    return target_state::degraded;
  return target_state::unknown;
}

std::optional<target_state> early_verdict(size_t up, size_t down, size_t open,
                                          uint32_t quorum) {
  auto q = std::max<uint32_t>(quorum, 1);
  if (down >= q)
    return target_state::down;
  if (up > 0 && down + open < q)
    return target_state::up;
  return std::nullopt;
}

namespace {

std::string join_nodes(const std::vector<node_view>& views, target_state x) {
  std::string out;
  for (auto& v : views)
    if (v.state == x)
      out += (out.empty() ? "" : ", ") + v.node;
  return out;
}

} // namespace

poll_result combine(const std::vector<node_poll>& polls, uint32_t quorum) {
  poll_result out;
  out.quorum = quorum;
  for (auto& p : polls) {
    node_view v;
    v.node = p.node;
    if (p.result) {
      v.state = classify(*p.result);
      v.code = p.result->code;
      v.status = p.result->status;
      v.latency = p.result->latency;
    } else {
      v.status = p.problem;
    }
    out.views.push_back(std::move(v));
  }
  auto state = verdict(out.views, quorum);
  auto down = std::count_if(out.views.begin(), out.views.end(), [](auto& v) {
    return v.state == target_state::down;
  });
  auto n = std::to_string(out.views.size());
  if (state == target_state::unknown) {
    out.status = "no node could poll: ";
    for (size_t i = 0; i < out.views.size(); ++i)
      out.status +=
        (i > 0 ? "; " : "") + out.views[i].node + ": " + out.views[i].status;
    return out;
  }
  // The result of the first node that agrees with the verdict speaks for
  // the target, all of it (certificate, a refused HEAD), with the views.
  for (size_t i = 0; i < polls.size(); ++i) {
    if (out.views[i].state != state)
      continue;
    auto views = std::move(out.views);
    out = *polls[i].result;
    out.views = std::move(views);
    out.quorum = quorum;
    break;
  }
  if (state == target_state::down)
    out.status += " (down on " + std::to_string(down) + " of " + n + " nodes)";
  else if (down > 0)
    out.status += " (down on " + std::to_string(down) + " of " + n +
                  " nodes: " + join_nodes(out.views, target_state::down) + ")";
  return out;
}

nlohmann::ordered_json views_json(const std::vector<node_view>& views) {
  // Milliseconds with microsecond precision, as every latency is shown.
  auto ms = [](caf::timespan x) {
    return static_cast<double>(x.count() / 1000) / 1000.0;
  };
  auto out = nlohmann::ordered_json::array();
  for (auto& v : views)
    out.push_back({
      {"node", v.node},
      {"state", to_string(v.state)},
      {"status", v.status},
      {"code", v.code != 0 ? nlohmann::ordered_json(v.code)
                           : nlohmann::ordered_json(nullptr)},
      {"latency_ms", v.code != 0 ? nlohmann::ordered_json(ms(v.latency))
                                 : nlohmann::ordered_json(nullptr)},
    });
  return out;
}

} // namespace urlpoll
