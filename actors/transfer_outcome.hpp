// The seam between libcurl and the rest of urlpoll: what a finished transfer
// means, in the words urlpoll shows. Pure functions, tested without a network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/timestamp.hpp>

namespace urlpoll {

/// What libcurl tells about one finished transfer.
struct transfer_report {
  /// libcurl's CURLcode; 0 (CURLE_OK) when an HTTP answer arrived.
  int curl_code = 0;
  /// CURLINFO_RESPONSE_CODE.
  long http_code = 0;
  /// The last status line the server sent, e.g. "HTTP/1.1 200 OK".
  std::string status_line;
  /// CURLINFO_OS_ERRNO: the system error behind a failed connect or receive.
  int os_errno = 0;
  /// libcurl's CURLOPT_ERRORBUFFER text.
  std::string error_buffer;
  /// The timeout the transfer had.
  caf::timespan timeout{0};
  /// The redirects it could follow.
  long max_redirects = 0;
};

/// The most response header bytes a poll takes; more ends it as down.
constexpr size_t max_header_bytes = 64 * 1024;

/// What a poll keeps of an answer's head as libcurl hands it over, one line
/// at a time: the status line of every answer (an interim 1xx, each redirect
/// followed) and each header line.
struct answer_head {
  /// The last "HTTP/1.1 200 OK" line, at most 256 bytes; a later one
  /// replaces an earlier one.
  std::string status_line;
  /// The header bytes taken so far.
  size_t bytes = 0;
  /// The headers passed max_header_bytes.
  bool too_big = false;
};

/// Takes one header line of `size` bytes into `head`: libcurl's header
/// callback, without libcurl. Keeps the status line and drops every other
/// header, so memory stays bounded whatever the server sends. False once the
/// headers pass max_header_bytes: the transfer is to end.
bool take_header_line(answer_head& head, const char* data, size_t size);

/// "200 OK" from an answer; the server's reason phrase when it sent one, the
/// standard one otherwise (HTTP/2 has none).
std::string status_text(long http_code, const std::string& status_line);

/// The transport error in words: "connection refused", "could not resolve
/// host: example.invalid", "timed out after 10 s", ...
std::string describe_error(const transfer_report& report);

/// Whole days from `now` until `when`, rounded down; negative once past.
int64_t days_until(caf::timestamp when, caf::timestamp now);

/// `x` in UTC, by strftime's `format`: "%Y-%m-%d" -> "2026-11-25".
std::string utc_time(caf::timestamp x, const char* format);

/// A duration the way urlpoll's configuration writes it: "10s", "250ms",
/// "1.5s", "2min"; for errors that quote a setting. What urlpoll reports
/// (latencies, timeouts, waits) goes through duration_text.
std::string format_duration(caf::timespan x);

/// A duration in what urlpoll reports to people, one way everywhere:
/// milliseconds below a second ("4.27 ms", "123.4 ms"), seconds below a
/// minute ("1.51 s"), then two units ("2m05s", "1h02m", "3d04h"); zeros
/// after the decimal point are left out ("500 ms", "2 s").
std::string duration_text(caf::timespan x);

} // namespace urlpoll
