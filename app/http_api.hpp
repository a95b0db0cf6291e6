// The HTTP API and status page (cpp-httplib), on urlpoll.http-listen.
//
//   GET /api/v1/status         the JSON snapshot, as everywhere else, with
//                              the counts by state; ?state= ?q= ?order=
//                              problems ?limit= ?offset= pick one page,
//                              ?days=N adds each target's daily uptime
//   GET /api/v1/targets/NAME   one target and its last 100 transitions
//   GET /api/v1/targets/NAME/history?from=&to=&step=1h|1d
//   GET /api/v1/targets/NAME/transitions?from=&to=&limit=
//   GET /api/v1/targets/NAME/uptime/WINDOW/badge.svg   (1h, 24h, 7d, 30d)
//   GET /api/v1/targets/NAME/state/badge.svg
//   GET /metrics               Prometheus text exposition format 0.0.4
//   GET /healthz               200 while the actor system runs
//   GET /                      the status page
//   POST /-/reload             reload the configuration: 200 with a summary,
//                              400 with the errors (nothing changed)
//
// Request handlers run on cpp-httplib's threads and only talk to actors:
// each asks the state monitor (or the history) by request/response with a
// timeout and renders the answer; none touches actor state. With a token, every
// endpoint but /healthz and the page itself (/) wants "Authorization: Bearer
// TOKEN".
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>
#include <caf/timestamp.hpp>

#include "actors/dispatcher.hpp"
#include "actors/interfaces.hpp"
#include "app/reloader.hpp"

namespace urlpoll {

/// "2026-11-22T18:00:00Z", with optional fractions and an offset
/// ("+01:00"); none when `text` is no such time.
std::optional<caf::timestamp> parse_rfc3339(const std::string& text);

/// A flat badge like shields.io's: `label` on grey, `value` on `colour`.
std::string badge_svg(const std::string& label, const std::string& value,
                      const std::string& colour);

class http_api {
public:
  /// Without a reloader, POST /-/reload answers 503; without a history,
  /// the history endpoints answer 404; without `metrics_per_target`,
  /// /metrics has the aggregates only.
  http_api(caf::actor_system& sys, state_monitor_actor monitor,
           std::string token, reloader_actor reloader = {},
           history_actor history = {}, bool metrics_per_target = true);
  ~http_api();

  /// Listens on `where` (port 0: any free port) and serves from a thread of
  /// its own. Returns the problem in words when it cannot.
  std::optional<std::string> start(const worker_address& where);

  /// The port it listens on, once started.
  int port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace urlpoll
