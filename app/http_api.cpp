#include "app/http_api.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include "actors/history_model.hpp"
#include "actors/state_monitor.hpp"
#include "app/metrics.hpp"
#include "app/report.hpp"
#include "app/status_page.hpp"

namespace urlpoll {

namespace {

constexpr auto monitor_timeout = std::chrono::seconds{5};

// /api/v1/status answers a page of at most this many targets in one piece;
// a bigger one, or every target, a slice at a time.
constexpr int64_t largest_single_page = 1000;
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

// A number parameter in [min, max], or `fallback` when absent; none (and
// a 400 answer) when it is something else.
std::optional<int64_t> number_param(const httplib::Request& req,
                                    httplib::Response& res, const char* name,
                                    int64_t fallback, int64_t min,
                                    int64_t max) {
  if (!req.has_param(name))
    return fallback;
  auto text = req.get_param_value(name);
  char* end = nullptr;
  errno = 0;
  auto value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min ||
      value > max) {
    json_error(res, 400,
               std::string{name} + "=" + text + " is not a number from " +
                 std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

// A time parameter, or `fallback` when absent; none (and a 400 answer) when
// it is no RFC 3339 time.
std::optional<caf::timestamp> time_param(const httplib::Request& req,
                                         httplib::Response& res,
                                         const char* name,
                                         caf::timestamp fallback) {
  if (!req.has_param(name))
    return fallback;
  auto text = req.get_param_value(name);
  if (auto x = parse_rfc3339(text))
    return x;
  json_error(res, 400,
             std::string{name} + "=" + text +
               " is not an RFC 3339 time such as 2026-11-22T18:00:00Z");
  return std::nullopt;
}

nlohmann::ordered_json ratio_json(double x) {
  if (x < 0)
    return nullptr;
  return std::round(x * 1e6) / 1e6;
}

nlohmann::ordered_json point_json(const history_point& p) {
  auto ms = [](double us) {
    return std::round(us) / 1000.0;
  };
  nlohmann::ordered_json latency = nullptr;
  if (p.latency_count > 0)
    latency = {{"avg", std::round(p.latency_avg_us) / 1000.0},
               {"min", ms(p.latency_min_us)},
               {"max", ms(p.latency_max_us)},
               {"p50", ms(p.latency_p50_us)},
               {"p95", ms(p.latency_p95_us)},
               {"p99", ms(p.latency_p99_us)}};
  auto up = p.up_seconds + p.degraded_seconds;
  auto known = up + p.down_seconds;
  return {
    {"time", rfc3339(p.time)},
    {"polls", p.polls},
    {"up", p.up},
    {"degraded", p.degraded},
    {"down", p.down},
    {"uptime", known == 0 ? nlohmann::ordered_json(nullptr)
                          : ratio_json(static_cast<double>(up) /
                                       static_cast<double>(known))},
    {"latency_ms", latency},
  };
}

// "99.95%": two decimals, without trailing zeros.
std::string percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", ratio * 100);
  std::string out = buf;
  while (out.back() == '0')
    out.pop_back();
  if (out.back() == '.')
    out.pop_back();
  return out + "%";
}

std::string uptime_colour(double ratio) {
  if (ratio < 0)
    return "#9f9f9f";
  if (ratio >= 0.999)
    return "#4c1";
  if (ratio >= 0.99)
    return "#97ca00";
  if (ratio >= 0.97)
    return "#dfb317";
  if (ratio >= 0.95)
    return "#fe7d37";
  return "#e05d44";
}

std::string state_colour(target_state x) {
  switch (x) {
  case target_state::up:
    return "#4c1";
  case target_state::degraded:
    return "#dfb317";
  case target_state::down:
    return "#e05d44";
  default:
    return "#9f9f9f";
  }
}

void svg(httplib::Response& res, const std::string& body) {
  // Caches in front of READMEs (GitHub's camo) keep a badge only briefly.
  res.set_header("Cache-Control", "no-cache, max-age=0");
  res.set_content(body, "image/svg+xml; charset=utf-8");
}

} // namespace

std::optional<caf::timestamp> parse_rfc3339(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year,
                  &month, &day, &hour, &minute, &second, &used) != 6 ||
      month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60)
    return std::nullopt;
  auto rest = text.substr(static_cast<size_t>(used));
  int64_t nanos = 0;
  if (!rest.empty() && rest.front() == '.') {
    size_t i = 1;
    int64_t scale = 100'000'000;
    for (; i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]));
         ++i, scale /= 10)
      nanos += (rest[i] - '0') * scale;
    if (i == 1)
      return std::nullopt;
    rest = rest.substr(i);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    // UTC
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
             rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) != 2)
      return std::nullopt;
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  return caf::timestamp{std::chrono::duration_cast<caf::timestamp::duration>(
    std::chrono::seconds{seconds} + std::chrono::nanoseconds{nanos})};
}

std::string badge_svg(const std::string& label, const std::string& value,
                      const std::string& colour) {
  // Widths from Verdana 11px's average glyph, as shields.io's flat style.
  auto width = [](const std::string& x) {
    return static_cast<int>(x.size()) * 7 + 10;
  };
  auto escape = [](const std::string& x) {
    std::string out;
    for (char c : x)
      switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
      }
    return out;
  };
  auto lw = width(label);
  auto vw = width(value);
  auto w = lw + vw;
  auto l = escape(label);
  auto v = escape(value);
  auto n = [](int x) {
    return std::to_string(x);
  };
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + n(w) +
         "\" height=\"20\" role=\"img\" aria-label=\"" + l + ": " + v +
         "\"><title>" + l + ": " + v +
         "</title><linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop "
         "offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop "
         "offset=\"1\" stop-opacity=\".1\"/></linearGradient><clipPath "
         "id=\"r\"><rect width=\"" +
         n(w) +
         "\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath><g "
         "clip-path=\"url(#r)\"><rect width=\"" +
         n(lw) + "\" height=\"20\" fill=\"#555\"/><rect x=\"" + n(lw) +
         "\" width=\"" + n(vw) + "\" height=\"20\" fill=\"" + colour +
         "\"/><rect width=\"" + n(w) +
         "\" height=\"20\" fill=\"url(#s)\"/></g><g fill=\"#fff\" "
         "text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu "
         "Sans,sans-serif\" font-size=\"11\"><text x=\"" +
         n(lw / 2) + "\" y=\"14\">" + l + "</text><text x=\"" + n(lw + vw / 2) +
         "\" y=\"14\">" + v + "</text></g></svg>";
}

struct http_api::impl {
  caf::actor_system& sys;
  state_monitor_actor monitor;
  std::string token;
  reloader_actor reloader;
  history_actor history;
  bool metrics_per_target;
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
    // The page holds no data: it reads the API with the token.
    if (token.empty() || req.path == "/healthz" || req.path == "/" ||
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

  bool has_history(httplib::Response& res) {
    if (history)
      return true;
    json_error(res, 404,
               "this urlpoll keeps no history (urlpoll.history is empty)");
    return false;
  }

  // Asks the history about one target; answers 404 when it never saw it.
  void ask_history(httplib::Response& res, const history_query& q,
                   bool transitions,
                   const std::function<void(history_answer&)>& ok) {
    auto found = [&](history_answer& x) {
      if (!x.found) {
        json_error(res, 404,
                   "the history has no target named '" + q.target +
                     "' (GET /api/v1/status lists them)");
        return;
      }
      ok(x);
    };
    if (transitions)
      ask_actor<history_answer>(history, monitor_timeout, "the history", res,
                                found, transitions_atom_v, q);
    else
      ask_actor<history_answer>(history, monitor_timeout, "the history", res,
                                found, caf::get_atom_v, q);
  }

  void status(const httplib::Request& req, httplib::Response& res) {
    status_query q;
    q.state = req.get_param_value("state");
    if (!valid_state_filter(q.state)) {
      json_error(res, 400,
                 "state=" + q.state +
                   " is none of up, degraded, down, unknown, flapping, "
                   "problems");
      return;
    }
    q.text = req.get_param_value("q");
    auto order = req.get_param_value("order");
    if (!order.empty() && order != "problems" && order != "config") {
      json_error(res, 400,
                 "order=" + order + " is neither problems nor config");
      return;
    }
    q.problems_first = order == "problems";
    auto limit = number_param(req, res, "limit", -1, 0, 1'000'000'000);
    auto offset = number_param(req, res, "offset", 0, 0, 1'000'000'000);
    auto days = number_param(req, res, "days", 0, 0, 400);
    if (!limit || !offset || !days)
      return;
    q.limit = *limit;
    q.offset = static_cast<size_t>(*offset);
    // A page that fits one answer comes in one; a bigger one, or every
    // target, is written a slice at a time as the state monitor gives it.
    auto streamed = q.limit < 0 || q.limit > largest_single_page;
    q.ids_only = streamed;
    auto with_days = *days;
    ask<snapshot>(
      res,
      [&](snapshot& x) {
        if (!streamed) {
          auto bars = daily(x.targets, with_days);
          res.set_content(render_page(x, bars), "application/json");
          return;
        }
        auto head = std::make_shared<const snapshot>(std::move(x));
        res.set_chunked_content_provider(
          "application/json",
          [this, head, with_days](size_t, httplib::DataSink& sink) {
            auto out = json_head(*head);
            auto first = true;
            for_each_slice(sys, monitor, head->ids, monitor_timeout,
                           [&](std::vector<target_status>& part) {
                             auto bars = daily(part, with_days);
                             append_json_targets(out, part, head->time, first,
                                                 &bars);
                             first = false;
                             auto ok = sink.write(out.data(), out.size());
                             out.clear();
                             return ok;
                           });
            // A document cut short (the state monitor did not answer)
            // still ends as JSON.
            out += json_tail;
            out += '\n';
            sink.write(out.data(), out.size());
            sink.done();
            return true;
          });
      },
      caf::get_atom_v, q);
  }

  // Each target's daily uptime over the last `days` (none for 0), from the
  // history; none when it does not answer: the page without its bars beats
  // no page.
  std::vector<std::vector<float>>
  daily(const std::vector<target_status>& targets, int64_t days) {
    std::vector<std::vector<float>> result;
    if (days <= 0 || !history || targets.empty())
      return result;
    daily_query d;
    d.days = static_cast<uint32_t>(days);
    for (auto& t : targets)
      d.targets.push_back(t.name.empty() ? t.url : t.name);
    caf::scoped_actor self{sys};
    self->request(history, monitor_timeout, daily_atom_v, std::move(d))
      .receive([&](daily_answer& a) { result = std::move(a.days); },
               [&](caf::error&) {});
    return result;
  }

  void history_route(const httplib::Request& req, httplib::Response& res) {
    if (!has_history(res))
      return;
    history_query q;
    q.target = req.matches[1];
    auto step = req.has_param("step") ? req.get_param_value("step") : "1h";
    if (step != "1h" && step != "1d") {
      json_error(res, 400, "step=" + step + " is neither 1h nor 1d");
      return;
    }
    q.daily = step == "1d";
    auto now = caf::make_timestamp();
    auto to = time_param(req, res, "to", now);
    if (!to)
      return;
    auto span = q.daily ? std::chrono::hours{24 * 30} : std::chrono::hours{24};
    auto from = time_param(req, res, "from", *to - span);
    if (!from)
      return;
    if (*from >= *to) {
      json_error(res, 400, "from must be before to");
      return;
    }
    q.from = *from;
    q.to = *to;
    ask_history(res, q, false, [&](history_answer& x) {
      auto points = nlohmann::ordered_json::array();
      for (auto& p : x.points)
        points.push_back(point_json(p));
      nlohmann::ordered_json doc{{"target", q.target},
                                 {"step", step},
                                 {"from", rfc3339(q.from)},
                                 {"to", rfc3339(q.to)},
                                 {"uptime", ratio_json(x.uptime)},
                                 {"points", std::move(points)}};
      res.set_content(doc.dump() + "\n", "application/json");
    });
  }

  void transitions_route(const httplib::Request& req, httplib::Response& res) {
    if (!has_history(res))
      return;
    history_query q;
    q.target = req.matches[1];
    auto now = caf::make_timestamp();
    auto to = time_param(req, res, "to", now + std::chrono::seconds{1});
    auto from = time_param(req, res, "from", caf::timestamp{});
    auto limit = number_param(req, res, "limit", 100, 1, 10'000);
    if (!to || !from || !limit)
      return;
    q.from = *from;
    q.to = *to;
    q.limit = static_cast<uint32_t>(*limit);
    ask_history(res, q, true, [&](history_answer& x) {
      auto list = nlohmann::ordered_json::array();
      for (auto& t : x.transitions)
        list.push_back(to_json(t));
      nlohmann::ordered_json doc{{"target", q.target},
                                 {"transitions", std::move(list)}};
      res.set_content(doc.dump() + "\n", "application/json");
    });
  }

  // The figure of the snapshot: the state monitor's, at this moment. A
  // target without one (no longer watched, or on a standby, which shows
  // what the leader wrote) has it from the history's database.
  void uptime_badge(const httplib::Request& req, httplib::Response& res) {
    if (!has_history(res))
      return;
    std::string name = req.matches[1];
    std::string window = req.matches[2];
    size_t w = 0;
    while (w + 1 < uptime_window_names.size() &&
           window != uptime_window_names[w])
      ++w;
    auto show = [&](double ratio) {
      svg(res,
          badge_svg("uptime " + window, ratio < 0 ? "no data" : percent(ratio),
                    uptime_colour(ratio)));
    };
    auto asked = false;
    auto shown = false;
    ask<target_detail>(
      res,
      [&](target_detail& x) {
        asked = true;
        shown = x.found && x.status.uptime[w] >= 0;
        if (shown)
          show(x.status.uptime[w]);
      },
      caf::get_atom_v, name);
    if (!asked || shown)
      return;
    history_query q;
    q.target = name;
    q.to = caf::make_timestamp();
    q.from = q.to - std::chrono::milliseconds{uptime_windows_ms[w]};
    ask_history(res, q, false, [&](history_answer& x) { show(x.uptime); });
  }

  void state_badge(const httplib::Request& req, httplib::Response& res) {
    std::string name = req.matches[1];
    ask<target_detail>(
      res,
      [&](target_detail& x) {
        if (!x.found) {
          json_error(res, 404, "no target named '" + name + "'");
          return;
        }
        auto& t = x.status;
        svg(res, badge_svg(name,
                           std::string{to_string(t.state)} +
                             (t.flapping ? " (flapping)" : ""),
                           state_colour(t.state)));
      },
      caf::get_atom_v, name);
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
    // For load balancers: 200 from a coordinator that polls (the leader of
    // a pair), 503 from a standby, which says who leads.
    server.Get(
      "/healthz", [this](const httplib::Request&, httplib::Response& res) {
        status_query q;
        q.limit = 0;
        ask<snapshot>(
          res,
          [&](snapshot& x) {
            auto& h = x.history;
            if (h.role != "standby") {
              res.set_content(h.role.empty() ? "ok\n" : "ok: leader\n",
                              "text/plain");
              return;
            }
            res.status = 503;
            res.set_content("standby: " +
                              (h.leader.empty()
                                 ? std::string{"no leader known yet"}
                                 : h.leader + " leads" +
                                     (h.leader_api.empty()
                                        ? std::string{}
                                        : " (http://" + h.leader_api + "/)")) +
                              "\n",
                            "text/plain");
          },
          caf::get_atom_v, q);
      });
    server.Get("/api/v1/status",
               [this](const httplib::Request& req, httplib::Response& res) {
                 status(req, res);
               });
    // Before the plain target route, which would take these too.
    server.Get(R"(/api/v1/targets/(.+)/history)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 history_route(req, res);
               });
    server.Get(R"(/api/v1/targets/(.+)/transitions)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 transitions_route(req, res);
               });
    server.Get(R"(/api/v1/targets/(.+)/uptime/(1h|24h|7d|30d)/badge\.svg)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 uptime_badge(req, res);
               });
    server.Get(R"(/api/v1/targets/(.+)/state/badge\.svg)",
               [this](const httplib::Request& req, httplib::Response& res) {
                 state_badge(req, res);
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
        status_query q;
        q.limit = metrics_per_target ? -1 : 0;
        q.ids_only = true;
        ask<snapshot>(
          res,
          [&](snapshot& x) {
            auto text = to_prometheus(x);
            if (metrics_per_target) {
              target_metrics m;
              auto problem =
                for_each_slice(sys, monitor, x.ids, monitor_timeout,
                               [&](std::vector<target_status>& part) {
                                 m.add(part);
                                 return true;
                               });
              if (problem) {
                json_error(res, 503,
                           "the state monitor did not answer: " + *problem);
                return;
              }
              text += m.str();
            }
            res.set_content(text, "text/plain; version=0.0.4; "
                                  "charset=utf-8");
          },
          caf::get_atom_v, q);
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

namespace {

// SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, with
// which a second urlpoll on the same http-listen binds too and the two
// answer at random. With this, the second one's bind fails: port in use.
void exclusive_port(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

} // namespace

http_api::http_api(caf::actor_system& sys, state_monitor_actor monitor,
                   std::string token, reloader_actor reloader,
                   history_actor history, bool metrics_per_target)
  : impl_(new impl{sys,
                   std::move(monitor),
                   std::move(token),
                   std::move(reloader),
                   std::move(history),
                   metrics_per_target,
                   {},
                   {},
                   0}) {
  impl_->server.set_socket_options(exclusive_port);
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
