// Fuzz target: the handling of an HTTP answer. The input is what a server
// sends before the body: status lines (interim 1xx answers, HTTP/0.9 to
// HTTP/2, huge or hostile reason phrases, lines without CR) and headers. It
// is handed over line by line as libcurl's header callback gets it
// (take_header_line), then shown (status_text), described as a transport
// error (describe_error) and judged (judge), as the poller does.
#include <cstdint>
#include <cstdio>
#include <string>

#include <curl/curl.h>

#include "actors/health.hpp"
#include "actors/transfer_outcome.hpp"
#include "fuzz_support.hpp"

using namespace urlpoll;
using namespace std::chrono_literals;

namespace {

// The status code libcurl reads from "HTTP/1.1 200 OK" or "HTTP/2 200": three
// digits after the version; 0 when there are none.
long code_of(const std::string& status_line) {
  auto space = status_line.find(' ');
  if (space == std::string::npos || status_line.size() < space + 4)
    return 0;
  long code = 0;
  for (size_t i = space + 1; i < space + 4; ++i) {
    auto c = status_line[i];
    if (c < '0' || c > '9')
      return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

bool printable(const std::string& x) {
  for (unsigned char c : x)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = reinterpret_cast<const char*>(data);
  answer_head head;
  size_t taken = 0;
  bool going = true;
  for (size_t begin = 0; begin < size && going;) {
    size_t end = begin;
    while (end < size && text[end] != '\n')
      ++end;
    if (end < size)
      ++end; // the '\n' belongs to its line
    going = take_header_line(head, text + begin, end - begin);
    taken += end - begin;
    begin = end;
  }
  URLPOLL_FUZZ_ASSERT(head.bytes == taken);
  URLPOLL_FUZZ_ASSERT(head.too_big == (taken > max_header_bytes));
  URLPOLL_FUZZ_ASSERT(head.status_line.size() <= 256);
  URLPOLL_FUZZ_ASSERT(head.status_line.empty() ||
                      head.status_line.compare(0, 5, "HTTP/") == 0);
  // An answer: shown as its code and reason phrase, printable ASCII only.
  auto code = code_of(head.status_line);
  if (code > 0) {
    auto status = status_text(code, head.status_line);
    URLPOLL_FUZZ_ASSERT(printable(status));
    auto number = std::to_string(code);
    URLPOLL_FUZZ_ASSERT(status.compare(0, number.size(), number) == 0);
    poll_result result;
    result.code = static_cast<uint16_t>(code);
    result.status = status;
    result.latency = 700ms;
    poll_request request;
    request.degraded_latency = 500ms;
    judge(result, request, true, caf::make_timestamp());
    URLPOLL_FUZZ_ASSERT(printable(result.status));
  }
  // No answer: libcurl's error buffer (a C string of at most 255 bytes) holds
  // whatever it quoted of what came.
  transfer_report report;
  report.curl_code = size > 0 ? data[0] % 100 : 0;
  report.os_errno = size > 1 ? data[1] % 135 : 0;
  report.http_code = code;
  report.status_line = head.status_line;
  report.error_buffer =
    std::string(text, std::min<size_t>(size, CURL_ERROR_SIZE - 1)).c_str();
  report.timeout = 10s;
  report.max_redirects = 10;
  URLPOLL_FUZZ_ASSERT(printable(describe_error(report)));
  return 0;
}
