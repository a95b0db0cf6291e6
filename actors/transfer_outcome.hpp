// The seam between libcurl and the rest of urlpoll: what a finished transfer
// means, in the words urlpoll shows. Pure functions, tested without a network.
#pragma once

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

/// "200 OK" from an answer; the server's reason phrase when it sent one, the
/// standard one otherwise (HTTP/2 has none).
std::string status_text(long http_code, const std::string& status_line);

/// The transport error in words: "connection refused", "could not resolve
/// host: example.invalid", "timed out after 10s", ...
std::string describe_error(const transfer_report& report);

/// Whole days from `now` until `when`, rounded down; negative once past.
int64_t days_until(caf::timestamp when, caf::timestamp now);

/// `x` in UTC, by strftime's `format`: "%Y-%m-%d" -> "2026-11-25".
std::string utc_time(caf::timestamp x, const char* format);

/// A duration the way urlpoll's configuration writes it: "10s", "250ms",
/// "1.5s", "2min".
std::string format_duration(caf::timespan x);

} // namespace urlpoll
