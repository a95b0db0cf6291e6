// How urlpoll shows status: one JSON document everywhere it emits JSON, and
// a readable table like the seed's log.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
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
void append_rfc3339(std::string& out, caf::timestamp x);

/// One target of the snapshot document, at time `now`.
nlohmann::ordered_json to_json(const target_status& t, caf::timestamp now);

/// The snapshot document: {"time", "targets": [{"url", "state", ...}]}.
nlohmann::ordered_json to_json(const snapshot& x);

/// The snapshot document a part at a time, for documents of any number of
/// targets: json_head, then append_json_targets for each slice of them
/// (`first` for the first), then json_tail.
std::string json_head(const snapshot& x);
void append_json_targets(std::string& out,
                         const std::vector<target_status>& targets,
                         caf::timestamp now, bool first,
                         const std::vector<std::vector<float>>* days = nullptr);
constexpr std::string_view json_tail = "]}";

/// The summary line, with the counts of `x`, and a table of its targets:
/// "and N more not up" when the page holds fewer than matched.
std::string to_text(const snapshot& x);

/// What the text log lists under its summary line: every target when at
/// most `max_lines`, else the targets that are not up; problems first
/// (down, degraded, flapping, unknown), at most `max_lines`.
status_query log_query(const state_counts& counts, size_t max_lines);

/// How long one page of the status may take the state monitor.
constexpr caf::timespan status_page_timeout = std::chrono::seconds{10};

/// Gives `f` the targets of `ids` a slice of stream_page_size at a time,
/// each asked from `monitor`, until `f` returns false; why the state
/// monitor did not answer, when it did not.
std::optional<std::string>
for_each_slice(caf::actor_system& sys, const state_monitor_actor& monitor,
               const std::vector<target_id>& ids, caf::timespan timeout,
               const std::function<bool(std::vector<target_status>&)>& f);

/// Writes the status in `format` to `out` a page at a time, asked from
/// `monitor`: the text log (see log_query) or the JSON document of every
/// target on one line. Returns the head (the counts by state).
caf::expected<snapshot> write_status(caf::actor_system& sys,
                                     const state_monitor_actor& monitor,
                                     status_format format, size_t max_lines,
                                     caf::timespan timeout, std::ostream& out);

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
/// urlpoll runs. On its own thread, it writes the status in `format` to
/// stdout each time the state monitor sends its head, asking the monitor
/// for the targets a page at a time (write_status); it writes each
/// target_status it receives as a failure line to stderr, and each
/// transition as a JSON line to `events` ("stdout", a file path, or nowhere
/// when empty): writing a million targets takes a while, and the state
/// monitor must not wait for it. A reload sends it (configure_atom, format,
/// max_lines, events, level).
/// The state monitor's output, sent to `printer`: snapshots, failures and
/// transitions.
monitor_output to_printer(caf::actor printer);

caf::actor spawn_printer(caf::actor_system& sys, status_format format,
                         size_t max_lines = 50, std::string events = {},
                         log_level level = log_level::info);

} // namespace urlpoll

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::status_format)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(urlpoll::log_level)
