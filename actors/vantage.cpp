#include "actors/vantage.hpp"

#include <algorithm>
#include <cstring>

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

// Between why a node is lost and the last view that stands for it.
constexpr const char* standing_words = "; its last view stands: ";

std::string join_nodes(const std::vector<node_view>& views, target_state x) {
  std::string out;
  for (auto& v : views)
    if (v.state == x)
      out += (out.empty() ? "" : ", ") + v.node;
  return out;
}

// The status of a combined result: the speaking node's status and how many
// nodes disagree, e.g. "503 Service Unavailable (down on 2 of 3 nodes)" or
// "200 OK (down on 1 of 3 nodes: b)".
std::string combined_status(const std::string& speaker,
                            const std::vector<node_view>& views,
                            target_state state) {
  auto down = std::count_if(views.begin(), views.end(), [](auto& v) {
    return v.state == target_state::down;
  });
  auto n = std::to_string(views.size());
  if (state == target_state::down)
    return speaker + " (down on " + std::to_string(down) + " of " + n +
           " nodes)";
  if (down > 0)
    return speaker + " (down on " + std::to_string(down) + " of " + n +
           " nodes: " + join_nodes(views, target_state::down) + ")";
  return speaker;
}

} // namespace

poll_result combine(const std::vector<node_poll>& polls, uint32_t quorum) {
  poll_result out;
  out.quorum = quorum;
  for (auto& p : polls) {
    node_view v;
    v.node = p.node;
    v.lost = p.lost;
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
  out.status = combined_status(out.status, out.views, state);
  return out;
}

std::optional<poll_result>
with_standing_views(const poll_result& result,
                    const std::vector<node_view>& previous) {
  // A poll that no node still polling could make learned nothing: old views
  // alone make no verdict.
  auto fresh =
    std::any_of(result.views.begin(), result.views.end(), [](auto& v) {
      return !v.lost && v.state != target_state::unknown;
    });
  if (!fresh)
    return std::nullopt;
  auto out = result;
  bool stood = false;
  for (auto& v : out.views) {
    if (!v.lost || v.state != target_state::unknown)
      continue;
    auto last = std::find_if(previous.begin(), previous.end(), [&](auto& p) {
      return p.node == v.node && p.state != target_state::unknown;
    });
    if (last == previous.end())
      continue;
    auto why = std::move(v.status);
    v = *last;
    v.lost = true;
    // A view that already stood keeps its words; a fresh one says why.
    if (!last->lost)
      v.status = why + standing_words + last->status;
    stood = true;
  }
  if (!stood)
    return std::nullopt;
  auto state = verdict(out.views, out.quorum);
  // The first node that agrees speaks, a node still polling before a lost
  // one: the result's own fields (timings, certificate) stay when it is
  // the node that spoke already.
  auto speaks = [&](bool lost) {
    return std::find_if(out.views.begin(), out.views.end(), [&](auto& v) {
      return v.state == state && v.lost == lost;
    });
  };
  auto speaker = speaks(false);
  if (speaker == out.views.end())
    speaker = speaks(true);
  if (speaker->node != result.node || speaker->lost) {
    out.node = speaker->node;
    out.code = speaker->code;
    out.latency = speaker->latency;
    out.timings = {};
    out.verdict = state;
  }
  // A standing view speaks in the words its node said them.
  auto said = speaker->status;
  if (auto at = said.find(standing_words); speaker->lost && at != said.npos)
    said.erase(0, at + std::strlen(standing_words));
  out.status = combined_status(said, out.views, state);
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
      {"lost", v.lost},
    });
  return out;
}

} // namespace urlpoll
