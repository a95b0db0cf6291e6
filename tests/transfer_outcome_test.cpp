#include <cerrno>

#include <curl/curl.h>
#include <doctest/doctest.h>

#include "actors/transfer_outcome.hpp"

using namespace urlpoll;
using namespace std::chrono_literals;

TEST_CASE("the status of an answer is its code and reason phrase") {
  CHECK(status_text(200, "HTTP/1.1 200 OK\r\n") == "200 OK");
  CHECK(status_text(503, "HTTP/1.1 503 Service Unavailable\r\n") ==
        "503 Service Unavailable");
  CHECK_MESSAGE(status_text(200, "HTTP/1.1 200 Fine\r\n") == "200 Fine",
                "the server's own phrase wins");
  CHECK_MESSAGE(status_text(404, "HTTP/2 404\r\n") == "404 Not Found",
                "HTTP/2 has no phrase: the standard one stands in");
  CHECK(status_text(299, "HTTP/2 299\r\n") == "299");
}

TEST_CASE("transport errors are described in words") {
  transfer_report r;
  r.timeout = 10s;
  r.curl_code = CURLE_OPERATION_TIMEDOUT;
  r.error_buffer = "Operation timed out after 10001 milliseconds";
  CHECK(describe_error(r) == "timed out after 10 s");
  r.curl_code = CURLE_COULDNT_RESOLVE_HOST;
  r.error_buffer = "Could not resolve host: nowhere.invalid";
  CHECK(describe_error(r) == "could not resolve host: nowhere.invalid");
  r.curl_code = CURLE_COULDNT_CONNECT;
  r.os_errno = ECONNREFUSED;
  CHECK(describe_error(r) == "connection refused");
  r.curl_code = CURLE_RECV_ERROR;
  r.os_errno = ECONNRESET;
  CHECK(describe_error(r) == "connection reset by peer");
  r.curl_code = CURLE_GOT_NOTHING;
  CHECK(describe_error(r).find("empty reply") == 0);
  r.curl_code = CURLE_SSL_CONNECT_ERROR;
  r.os_errno = 0;
  r.error_buffer = "OpenSSL SSL_connect: Connection reset";
  CHECK(describe_error(r).find("SSL connect error") != std::string::npos);
}

TEST_CASE("durations are written the way the configuration writes them") {
  CHECK(format_duration(10s) == "10s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(2min) == "2min");
  CHECK(format_duration(0s) == "0s");
  CHECK(format_duration(-5s) == "-5s");
}

TEST_CASE("durations in what urlpoll reports are written one way: ms below "
          "a second, s below a minute, then two units") {
  CHECK(duration_text(0s) == "0 ms");
  CHECK(duration_text(42us) == "0.04 ms");
  CHECK(duration_text(4271us) == "4.27 ms");
  CHECK(duration_text(4200us) == "4.2 ms");
  CHECK(duration_text(9999us) == "10 ms");
  CHECK(duration_text(12345us) == "12.3 ms");
  CHECK(duration_text(500ms) == "500 ms");
  CHECK(duration_text(1501400us) == "1.5 s");
  CHECK(duration_text(1508820us) == "1.51 s");
  CHECK(duration_text(999960us) == "1 s");
  CHECK(duration_text(2s) == "2 s");
  CHECK(duration_text(59996ms) == "1m00s");
  CHECK(duration_text(125s) == "2m05s");
  CHECK(duration_text(1h + 2min + 10s) == "1h02m");
  CHECK(duration_text(76h) == "3d04h");
  CHECK(duration_text(-1500ms) == "-1.5 s");
}

TEST_CASE("a hostile reason phrase is shown as printable ASCII only") {
  CHECK(status_text(200, "HTTP/1.1 200 \xff\xfe\x01ok\x7f") == "200 ???ok?");
  transfer_report report;
  report.curl_code = 1; // CURLE_UNSUPPORTED_PROTOCOL
  report.error_buffer = "Protocol \"\xc3(\" not supported";
  CHECK(describe_error(report).find('\xc3') == std::string::npos);
}

TEST_CASE("an answer's head keeps its last status line and its size") {
  answer_head head;
  auto take = [&](const std::string& line) {
    return take_header_line(head, line.data(), line.size());
  };
  CHECK(take("HTTP/1.1 100 Continue\r\n"));
  CHECK(take("\r\n"));
  CHECK(take("HTTP/1.1 200 OK\r\n"));
  CHECK(take("Content-Type: text/plain\r\n"));
  CHECK(head.status_line == "HTTP/1.1 200 OK\r\n");
  CHECK(head.bytes == 68);
  SUBCASE("a status line is kept to its first 256 bytes") {
    CHECK(take("HTTP/1.1 200 " + std::string(1000, 'x') + "\r\n"));
    CHECK(head.status_line.size() == 256);
  }
  SUBCASE("headers past 64 KiB end the transfer") {
    std::string line(1000, 'x');
    while (take(line))
      CHECK_FALSE(head.too_big);
    CHECK(head.too_big);
    CHECK(head.bytes > max_header_bytes);
  }
}
