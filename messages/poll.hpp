// A poll: what a resource asks of a poller, and what the poller found.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace urlpoll {

/// Names a target inside one run of urlpoll: its position in the
/// configuration, and its index in the state monitor's status map.
using target_id = uint32_t;

enum class http_method : uint8_t { head, get };

/// "HEAD" or "GET".
const char* to_string(http_method x);

/// HTTP status codes from..to, both included.
struct status_range {
  uint16_t from = 200;
  uint16_t to = 399;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_range& x) {
  return f(caf::meta::type_name("status_range"), x.from, x.to);
}

inline bool operator==(const status_range& x, const status_range& y) {
  return x.from == y.from && x.to == y.to;
}

/// Asks a poller for one HTTP request against one target, and says how to
/// judge the answer: everything a poller needs, on any node.
struct poll_request {
  /// The target's URL as configured, credentials included.
  std::string url;
  /// How long the whole transfer may take before it counts as failed.
  caf::timespan timeout{0};
  /// When the poll was due (system clock): the poller measures lateness.
  caf::timestamp due;
  /// Open a new connection for this poll and close it afterwards.
  bool fresh_connection = false;
  http_method method = http_method::head;
  /// Extra request headers, each "Name: value".
  std::vector<std::string> headers;
  bool follow_redirects = false;
  uint16_t max_redirects = 10;
  /// Skip TLS certificate verification.
  bool insecure = false;
  /// CA certificates to trust instead of the system's; empty: the system's.
  std::string ca_file;
  /// With GET: the body must contain this text, or match /this regex/.
  std::string body_match;
  /// The most of a body that is read; more ends the transfer.
  uint32_t max_body = 64 * 1024;
  /// Status codes that count as up; empty: 200-399.
  std::vector<status_range> expect;
  /// Slower than this is degraded; 0: never.
  caf::timespan degraded_latency{0};
  /// A certificate expiring within this is degraded; 0: never.
  caf::timespan cert_expiry_warn{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_request& x) {
  return f(caf::meta::type_name("poll_request"), x.url, x.timeout, x.due,
           x.fresh_connection, x.method, x.headers, x.follow_redirects,
           x.max_redirects, x.insecure, x.ca_file, x.body_match, x.max_body,
           x.expect, x.degraded_latency, x.cert_expiry_warn);
}

/// Field by field, as inspect lists them: a reload compares a target's old
/// and new request to know whether its rules changed.
inline bool operator==(const poll_request& x, const poll_request& y) {
  auto fields = [](const poll_request& r) {
    return std::tie(r.url, r.timeout, r.due, r.fresh_connection, r.method,
                    r.headers, r.follow_redirects, r.max_redirects, r.insecure,
                    r.ca_file, r.body_match, r.max_body, r.expect,
                    r.degraded_latency, r.cert_expiry_warn);
  };
  return fields(x) == fields(y);
}

/// Where a poll's time went, each phase counted from the start of the
/// transfer (libcurl's timing breakdown); zero for phases never reached.
struct poll_timings {
  caf::timespan dns{0};
  caf::timespan connect{0};
  caf::timespan tls{0};
  caf::timespan first_byte{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_timings& x) {
  return f(caf::meta::type_name("poll_timings"), x.dns, x.connect, x.tls,
           x.first_byte);
}

/// What urlpoll believes about a target.
enum class target_state : uint8_t {
  /// No result yet, or a failure not yet confirmed by failure-threshold.
  unknown,
  /// The answer was as expected.
  up,
  /// The answer was as expected, but slow or with a certificate about to
  /// expire.
  degraded,
  /// Another status, a body without the expected text, a transport error.
  down,
};

/// "unknown", "up", "degraded" or "down".
const char* to_string(target_state x);

/// What one node saw of a target, in vantage mode: each node polls the
/// target, and the target's state follows a quorum of their views.
struct node_view {
  std::string node;
  /// up or down; unknown when the node itself failed (it died, was cut off
  /// or did not answer in time): that says nothing about the target.
  target_state state = target_state::unknown;
  uint16_t code = 0;
  std::string status;
  caf::timespan latency{0};
  /// The node was lost when the poll went out or during it: state, code,
  /// status and latency are its last view, standing in (unknown when it had
  /// none).
  bool lost = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_view& x) {
  return f(caf::meta::type_name("node_view"), x.node, x.state, x.code, x.status,
           x.latency, x.lost);
}

/// The outcome of one poll: an HTTP answer or a transport error.
struct poll_result {
  /// The HTTP status code, or 0 when no HTTP answer arrived.
  uint16_t code = 0;
  /// "200 OK" for an answer, or the transport error in words.
  std::string status;
  /// From the start of the transfer to its end.
  caf::timespan latency{0};
  /// When the poll started (system clock).
  caf::timestamp time;
  /// How much later than due the poll started.
  caf::timespan lateness{0};
  poll_timings timings;
  /// The node whose poller made the poll.
  std::string node;
  /// Vantage mode: every node's view, and how many must see the target down
  /// for it to be down. Empty and 0 otherwise.
  std::vector<node_view> views;
  uint32_t quorum = 0;
  /// The poller's verdict by the request's rules; unknown when the result
  /// was made elsewhere (then the status code decides: 200-399 is up).
  target_state verdict = target_state::unknown;
  /// When the server's certificate expires; the epoch when unknown (http,
  /// or no TLS handshake seen yet).
  caf::timestamp cert_expiry;
  /// HEAD was answered 405 or 501, and this result is the GET's.
  bool head_refused = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_result& x) {
  return f(caf::meta::type_name("poll_result"), x.code, x.status, x.latency,
           x.time, x.lateness, x.timings, x.node, x.views, x.quorum, x.verdict,
           x.cert_expiry, x.head_refused);
}

} // namespace urlpoll
