// How urlpoll shows status: one JSON document everywhere it emits JSON, and
// a readable table like the seed's log.
#pragma once

#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/timestamp.hpp>
#include <nlohmann/json.hpp>

#include "actors/state_monitor.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "messages/snapshot.hpp"

namespace urlpoll {

/// RFC 3339 in UTC with milliseconds: "2026-11-21T23:50:13.123Z".
std::string rfc3339(caf::timestamp x);

/// One target of the snapshot document, at time `now`.
nlohmann::ordered_json to_json(const target_status& t, caf::timestamp now);

/// The snapshot document: {"time", "targets": [{"url", "state", ...}]}.
nlohmann::ordered_json to_json(const snapshot& x);

/// A table with one line per target under a summary line.
std::string to_text(const snapshot& x);

/// The snapshot as JSON with each target's daily uptime (`days`, in the
/// targets' order; empty: none), ending in a newline.
std::string render_page(const snapshot& x,
                        const std::vector<std::vector<float>>& days);

/// The snapshot in `format`, ending in a newline: one line for JSON.
std::string render(const snapshot& x, status_format format);

/// The stderr line for a failed poll: "urlpoll: URL: ERROR (...)".
std::string failure_line(const target_status& x);

/// One transition as the JSON line of urlpoll.events:
/// {"time", "target", "from", "to", "flapping", "status", "code",
///  "latency_ms", "node"}.
nlohmann::ordered_json to_json(const transition& x);

/// Spawns the actor that owns stdout, stderr and the events file while
/// urlpoll runs. On its own thread, it renders each snapshot it receives in
/// `format` to stdout, writes each target_status it receives as a failure
/// line to stderr, and each transition as a JSON line to `events` ("stdout",
/// a file path, or nowhere when empty): rendering 100,000 targets takes a
/// while, and the state monitor must not wait for it. A reload sends it
/// (configure_atom, format, events).
/// The state monitor's output, sent to `printer`: snapshots, failures and
/// transitions.
monitor_output to_printer(caf::actor printer);

caf::actor spawn_printer(caf::actor_system& sys, status_format format,
                         std::string events = {},
                         log_level level = log_level::info);

} // namespace urlpoll

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::status_format)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::log_level)
