#include "actors/transfer_outcome.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

#include <curl/curl.h>

namespace urlpoll {

namespace {

const char* reason_phrase(long code) {
  switch (code) {
  // clang-format off
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 425: return "Too Early";
    case 429: return "Too Many Requests";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    // clang-format on
  }
}

std::string trim(const std::string& x) {
  auto first = x.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = x.find_last_not_of(" \t\r\n");
  return x.substr(first, last - first + 1);
}

// libcurl writes "Failed to connect ..."; urlpoll writes "failed to connect".
std::string sentence_case(std::string x) {
  if (x.size() > 1 && std::isupper(static_cast<unsigned char>(x[0])) &&
      !std::isupper(static_cast<unsigned char>(x[1])))
    x[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(x[0])));
  return x;
}

std::string os_error(int err) {
  return sentence_case(std::strerror(err));
}

} // namespace

namespace {

// What a server sent, made safe to show and to put in JSON: anything but
// printable ASCII becomes '?' (a hostile reason phrase may hold control
// characters or bytes that are no UTF-8).
std::string printable(std::string x) {
  for (auto& c : x)
    if (c < 0x20 || c > 0x7e)
      c = '?';
  return x;
}

} // namespace

bool take_header_line(answer_head& head, const char* data, size_t size) {
  head.bytes += size;
  if (head.bytes > max_header_bytes) {
    head.too_big = true;
    return false;
  }
  if (size >= 5 && std::char_traits<char>::compare(data, "HTTP/", 5) == 0)
    head.status_line.assign(data, std::min<size_t>(size, 256));
  return true;
}

std::string status_text(long http_code, const std::string& status_line) {
  // "HTTP/1.1 200 OK": the reason phrase follows the second space.
  auto line = trim(status_line);
  auto first_space = line.find(' ');
  std::string reason;
  if (first_space != std::string::npos) {
    auto second_space = line.find(' ', first_space + 1);
    if (second_space != std::string::npos)
      reason = printable(trim(line.substr(second_space + 1)));
  }
  if (reason.empty())
    reason = reason_phrase(http_code);
  auto result = std::to_string(http_code);
  if (!reason.empty()) {
    result += ' ';
    result += reason;
  }
  return result;
}

std::string describe_error(const transfer_report& report) {
  auto details = printable(trim(report.error_buffer));
  switch (static_cast<CURLcode>(report.curl_code)) {
  case CURLE_OPERATION_TIMEDOUT:
    return "timed out after " + duration_text(report.timeout);
  case CURLE_COULDNT_RESOLVE_HOST: {
    // libcurl: "Could not resolve host: example.invalid"
    auto colon = details.find(": ");
    if (colon != std::string::npos)
      return "could not resolve host: " + details.substr(colon + 2);
    return "could not resolve host";
  }
  case CURLE_COULDNT_CONNECT:
    if (report.os_errno != 0)
      return os_error(report.os_errno);
    return "could not connect";
  case CURLE_GOT_NOTHING:
    return "empty reply: the server closed the connection without "
           "answering";
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
    if (report.os_errno != 0)
      return os_error(report.os_errno);
    break;
  case CURLE_TOO_MANY_REDIRECTS:
    return "more than " + std::to_string(report.max_redirects) +
           " redirects: a redirect loop?";
  case CURLE_UNSUPPORTED_PROTOCOL:
    // libcurl refuses an answer without a status line as HTTP/0.9.
    if (details.find("HTTP/0.9") != std::string::npos)
      return "the answer is not HTTP: no status line (HTTP/0.9, or another "
             "protocol on this port)";
    // Else only a redirect gets here: configured URLs are checked at start-up.
    return "redirected to an unsupported scheme (" +
           (details.empty() ? std::string{"not http or https"} : details) + ")";
  case CURLE_PEER_FAILED_VERIFICATION:
    // "SSL certificate problem: certificate has expired"
    return "TLS certificate not accepted: " +
           (details.empty() ? std::string{"verification failed"} : details);
  case CURLE_OK:
    return "no answer";
  default:
    break;
  }
  auto result =
    sentence_case(curl_easy_strerror(static_cast<CURLcode>(report.curl_code)));
  if (!details.empty() && details != result)
    result += ": " + sentence_case(details);
  return result;
}

int64_t days_until(caf::timestamp when, caf::timestamp now) {
  auto seconds =
    std::chrono::duration_cast<std::chrono::seconds>(when - now).count();
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

std::string utc_time(caf::timestamp x, const char* format) {
  auto t = static_cast<std::time_t>(
    std::chrono::duration_cast<std::chrono::seconds>(x.time_since_epoch())
      .count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &utc);
  return buf;
}

std::string format_duration(caf::timespan x) {
  using namespace std::chrono;
  if (x.count() < 0)
    return "-" + format_duration(-x);
  auto ns = x.count();
  std::ostringstream out;
  auto emit = [&](double value, const char* unit) {
    out << value << unit;
    return out.str();
  };
  if (ns == 0)
    return "0s";
  if (ns % 60'000'000'000 == 0 && ns >= 60'000'000'000)
    return emit(static_cast<double>(ns / 60'000'000'000), "min");
  if (ns >= 1'000'000'000)
    return emit(static_cast<double>(ns) / 1e9, "s");
  if (ns >= 1'000'000)
    return emit(static_cast<double>(ns) / 1e6, "ms");
  if (ns >= 1'000)
    return emit(static_cast<double>(ns) / 1e3, "us");
  return emit(static_cast<double>(ns), "ns");
}

namespace {

// `n / unit`, rounded half up, without overflow.
int64_t rounded(int64_t n, int64_t unit) {
  return n / unit + (n % unit >= (unit + 1) / 2 ? 1 : 0);
}

// `n` hundredths (digits 2) or tenths (digits 1) as a decimal, without the
// zeros at its end: 150 hundredths -> "1.5".
std::string decimal(int64_t n, int digits) {
  auto scale = digits == 2 ? 100 : 10;
  auto fraction = n % scale;
  auto text = std::to_string(n / scale);
  if (fraction == 0)
    return text;
  if (digits == 2 && fraction % 10 == 0)
    return text + '.' + std::to_string(fraction / 10);
  auto shown = std::to_string(fraction);
  return text + '.' +
         std::string(static_cast<size_t>(digits) - shown.size(), '0') + shown;
}

// "2m05s": the larger unit, then the smaller one in two digits.
std::string two_units(int64_t n, int64_t per, const char* big,
                      const char* small) {
  auto rest = std::to_string(n % per);
  return std::to_string(n / per) + big + (rest.size() < 2 ? "0" : "") + rest +
         small;
}

} // namespace

std::string duration_text(caf::timespan x) {
  auto ns = x.count();
  if (ns < 0)
    return "-" + duration_text(-x);
  // Each range shows its own precision; a value that rounds up to the next
  // range is written there: "1 s", not "1000 ms".
  constexpr int64_t ms = 1'000'000;
  constexpr int64_t s = 1000 * ms;
  if (auto hundredths = rounded(ns, ms / 100); hundredths < 1000)
    return decimal(hundredths, 2) + " ms";
  if (auto tenths = rounded(ns, ms / 10); tenths < 10'000)
    return decimal(tenths, 1) + " ms";
  if (auto hundredths = rounded(ns, s / 100); hundredths < 6000)
    return decimal(hundredths, 2) + " s";
  if (auto seconds = rounded(ns, s); seconds < 3600)
    return two_units(seconds, 60, "m", "s");
  if (auto minutes = rounded(ns, 60 * s); minutes < 24 * 60)
    return two_units(minutes, 60, "h", "m");
  return two_units(rounded(ns, 3600 * s), 24, "d", "h");
}

} // namespace urlpoll
