// The HTTP API and status page (cpp-httplib), on urlpoll.http-listen.
//
//   GET /api/v1/status         the JSON snapshot, as everywhere else
//   GET /api/v1/targets/NAME   one target and its last 100 transitions
//   GET /metrics               Prometheus text exposition format 0.0.4
//   GET /healthz               200 while the actor system runs
//   GET /                      the status page
//   POST /-/reload             reload the configuration: 200 with a summary,
//                              400 with the errors (nothing changed)
//
// Request handlers run on cpp-httplib's threads and only talk to actors:
// each asks the state monitor by request/response with a timeout and renders
// the answer; none touches actor state. With a token, every endpoint but
// /healthz wants "Authorization: Bearer TOKEN".
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/dispatcher.hpp"
#include "actors/interfaces.hpp"
#include "app/reloader.hpp"

namespace urlpoll {

class http_api {
public:
  /// Without a reloader, POST /-/reload answers 503.
  http_api(caf::actor_system& sys, state_monitor_actor monitor,
           std::string token, reloader_actor reloader = {});
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
