// A line for the log: what any part of urlpoll sends the printer, the sole
// owner of stderr, with its syslog priority, so that `journalctl -p err`
// shows urlpoll's own failures and `log-level` can quiet the rest.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace urlpoll {

/// syslog's priorities, by their numbers (sd-daemon(3)'s "<3>" prefixes).
enum class log_level : uint8_t {
  /// urlpoll itself failed at something it was asked to do: a database
  /// write, a reload, an alert it gave up on, a port.
  error = 3,
  /// Something failed that urlpoll watches or retries: a target's failed
  /// poll, an alert delivery it retries, a worker not reached.
  warning = 4,
  /// A change worth knowing: a reload applied, the database writable again.
  notice = 5,
  /// What urlpoll is doing: started, listening.
  info = 6,
};

struct log_line {
  log_level level = log_level::info;
  std::string text;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_line& x) {
  return f(caf::meta::type_name("log_line"), x.level, x.text);
}

} // namespace urlpoll
