#include "app/http_api.hpp"

#include <cctype>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include "app/metrics.hpp"
#include "app/report.hpp"
#include "app/status_page.hpp"

namespace urlpoll {

namespace {

constexpr auto monitor_timeout = std::chrono::seconds{5};
// Reading and applying 100,000 targets takes about a second.
constexpr auto reload_timeout = std::chrono::seconds{60};

void json_error(httplib::Response& res, int status, const std::string& what) {
  res.status = status;
  res.set_content(nlohmann::ordered_json{{"error", what}}.dump() + "\n",
                  "application/json");
}

// The credentials of "Bearer TOKEN", the scheme in any case (RFC 7235);
// empty for any other header.
std::string bearer_token(const std::string& header) {
  const std::string scheme = "bearer ";
  if (header.size() <= scheme.size())
    return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i])
      return {};
  return header.substr(scheme.size());
}

} // namespace

struct http_api::impl {
  caf::actor_system& sys;
  state_monitor_actor monitor;
  std::string token;
  reloader_actor reloader;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  // Asks `dest` for `what` within `timeout`; on an answer calls `ok`, else
  // answers 503, saying that `dest` (named `who`) did not answer.
  template <class Answer, class Handle, class... Ts>
  void ask_actor(const Handle& dest, caf::timespan timeout, const char* who,
                 httplib::Response& res, std::function<void(Answer&)> ok,
                 Ts... what) {
    caf::scoped_actor self{sys};
    self->request(dest, timeout, what...)
      .receive([&](Answer& x) { ok(x); },
               [&](caf::error& err) {
                 json_error(res, 503,
                            std::string{who} +
                              " did not answer: " + sys.render(err));
               });
  }

  // Asks the state monitor for `what`.
  template <class Answer, class... Ts>
  void ask(httplib::Response& res, std::function<void(Answer&)> ok,
           Ts... what) {
    ask_actor<Answer>(monitor, monitor_timeout, "the state monitor", res,
                      std::move(ok), what...);
  }

  bool authorized(const httplib::Request& req, httplib::Response& res) {
    if (token.empty() || req.path == "/healthz" ||
        bearer_token(req.get_header_value("Authorization")) == token)
      return true;
    res.set_header("WWW-Authenticate", "Bearer realm=\"urlpoll\"");
    json_error(res, 401,
               "this urlpoll wants Authorization: Bearer TOKEN "
               "(urlpoll.http-token)");
    return false;
  }

  void reload(httplib::Response& res) {
    if (!reloader) {
      json_error(res, 503, "this urlpoll does not reload");
      return;
    }
    ask_actor<reload_report>(
      reloader, reload_timeout, "the reloader", res,
      [&](reload_report& x) {
        res.status = x.ok ? 200 : 400;
        res.set_content(to_json(x), "application/json");
      },
      reload_atom_v, std::string{"POST /-/reload"});
  }

  void routes() {
    server.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res))
          return httplib::Server::HandlerResponse::Handled;
        // Here, before cpp-httplib reads a body: it refuses a POST without
        // Content-Length, and `curl -X POST .../-/reload` sends none.
        if (req.method == "POST" && req.path == "/-/reload") {
          reload(res);
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server.Get("/api/v1/status", [this](const httplib::Request&,
                                        httplib::Response& res) {
      ask<snapshot>(
        res,
        [&](snapshot& x) {
          res.set_content(render(x, status_format::json), "application/json");
        },
        caf::get_atom_v);
    });
    server.Get(R"(/api/v1/targets/(.+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 std::string name = req.matches[1];
                 ask<target_detail>(
                   res,
                   [&](target_detail& x) {
                     if (!x.found) {
                       json_error(res, 404,
                                  "no target named '" + name +
                                    "' (GET /api/v1/status lists them)");
                       return;
                     }
                     auto transitions = nlohmann::ordered_json::array();
                     for (auto& t : x.transitions)
                       transitions.push_back(to_json(t));
                     nlohmann::ordered_json doc{
                       {"target", to_json(x.status, caf::make_timestamp())},
                       {"transitions", std::move(transitions)}};
                     res.set_content(doc.dump() + "\n", "application/json");
                   },
                   caf::get_atom_v, name);
               });
    server.Get(
      "/metrics", [this](const httplib::Request&, httplib::Response& res) {
        ask<snapshot>(
          res,
          [&](snapshot& x) {
            res.set_content(to_prometheus(x), "text/plain; version=0.0.4; "
                                              "charset=utf-8");
          },
          caf::get_atom_v);
      });
    server.Get("/-/reload",
               [](const httplib::Request&, httplib::Response& res) {
                 res.set_header("Allow", "POST");
                 json_error(res, 405, "reload with POST /-/reload");
               });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(status_page_html, "text/html; charset=utf-8");
    });
  }
};

http_api::http_api(caf::actor_system& sys, state_monitor_actor monitor,
                   std::string token, reloader_actor reloader)
  : impl_(new impl{sys,
                   std::move(monitor),
                   std::move(token),
                   std::move(reloader),
                   {},
                   {},
                   0}) {
  impl_->routes();
}

http_api::~http_api() {
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    impl_->thread.join();
  }
}

std::optional<std::string> http_api::start(const worker_address& where) {
  auto& server = impl_->server;
  if (where.port == 0)
    impl_->port = server.bind_to_any_port(where.host);
  else
    impl_->port = server.bind_to_port(where.host, where.port) ? where.port : -1;
  if (impl_->port <= 0)
    return "cannot listen on " + to_string(where) + ": " +
           std::strerror(errno) +
           " (is another process using the port? set urlpoll.http-listen, "
           "or make it empty to turn the HTTP API off)";
  impl_->thread = std::thread{[this] {
    impl_->server.listen_after_bind();
  }};
  return std::nullopt;
}

int http_api::port() const {
  return impl_->port;
}

} // namespace urlpoll
