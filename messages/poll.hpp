// A poll: what a resource asks of a poller, and what the poller found.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace urlpoll {

/// Names a target inside one run of urlpoll: its position in the
/// configuration, and its index in the state monitor's status map.
using target_id = uint32_t;

/// Asks a poller for one HTTP HEAD request against one target.
struct poll_request {
  /// The target's URL as configured, credentials included.
  std::string url;
  /// How long the whole transfer may take before it counts as failed.
  caf::timespan timeout{0};
  /// When the poll was due (system clock): the poller measures lateness.
  caf::timestamp due;
  /// Open a new connection for this poll and close it afterwards.
  bool fresh_connection = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_request& x) {
  return f(caf::meta::type_name("poll_request"), x.url, x.timeout, x.due,
           x.fresh_connection);
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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, poll_result& x) {
  return f(caf::meta::type_name("poll_result"), x.code, x.status, x.latency,
           x.time, x.lateness, x.timings);
}

} // namespace urlpoll
