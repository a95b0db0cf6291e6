// How log lines are written: the priority prefix journald reads, and the
// log-level option.
#pragma once

#include <optional>
#include <string>

#include "messages/log.hpp"

namespace urlpoll {

/// "error", "warning", "notice" or "info".
const char* to_string(log_level x);

/// The level named `name`, or nullopt.
std::optional<log_level> parse_log_level(const std::string& name);

/// True when stderr is a stream to the journal: systemd sets JOURNAL_STREAM
/// to its device and inode (systemd.exec(5)). Read once.
bool stderr_is_journal();

/// `line` as written to stderr, newline-terminated: every line of its text
/// prefixed with "<N>" (N its priority) when `journal`, so that journald
/// files each at its priority.
std::string render_log(const log_line& line, bool journal);

/// Writes `line` to stderr, prefixed for the journal when stderr is one: for
/// the few lines written before the printer exists (start-up errors).
void write_log(log_level level, const std::string& text);

} // namespace urlpoll
