#include <doctest/doctest.h>

#include "actors/target_url.hpp"

using namespace urlpoll;

TEST_CASE("http and https URLs with a host can be polled") {
  CHECK_FALSE(check_url("http://example.org/"));
  CHECK_FALSE(check_url("https://example.org:8443/health?x=1"));
  CHECK_FALSE(check_url("HTTP://EXAMPLE.ORG"));
  CHECK_FALSE(check_url("http://user:secret@127.0.0.1:8080/"));
  CHECK_FALSE(check_url("http://[::1]:8080/"));
}

TEST_CASE("a URL that cannot be polled is refused with the reason") {
  auto reason = [](const char* url) {
    return check_url(url).value_or("");
  };
  CHECK(reason("") == "the URL is empty");
  CHECK(reason("example.org/health").find("no scheme") != std::string::npos);
  CHECK(reason("ftp://example.org/").find("unsupported scheme 'ftp'") !=
        std::string::npos);
  CHECK(reason("file:///etc/passwd").find("unsupported scheme 'file'") !=
        std::string::npos);
  CHECK(reason("http://").find("no host") != std::string::npos);
  CHECK(reason("http:///path").find("no host") != std::string::npos);
  CHECK(reason("http://exa mple.org/").find("whitespace") != std::string::npos);
  CHECK(reason("http://example.org:99999/").find("malformed") !=
        std::string::npos);
}

TEST_CASE("a password in a URL is shown as ***") {
  CHECK(redact("http://user:secret@host/") == "http://user:***@host/");
  CHECK(redact("https://u:p%40ss@host:8443/x?y=1", true) ==
        "https://u:***@host:8443/x?y=1");
  CHECK(redact("http://user:se@cret@host/") == "http://user:***@host/");
  CHECK(redact("http://host/path@x:y") == "http://host/path@x:y");
  CHECK(redact("http://user@host/") == "http://user@host/");
  CHECK(redact("http://host/") == "http://host/");
}

TEST_CASE("query values are shown as *** and the fragment not at all, unless "
          "show-query") {
  CHECK(redact("http://h/p?apikey=abc&x=1#frag") ==
        "http://h/p?apikey=***&x=***");
  CHECK(redact("http://u:pw@h/p?apikey=abc&flag&empty=&=v") ==
        "http://u:***@h/p?apikey=***&flag&empty=&=***");
  CHECK(redact("http://h?token=abc") == "http://h?token=***");
  CHECK(redact("http://h/#access_token=abc") == "http://h/");
  CHECK(redact("http://h/p?") == "http://h/p?");
  CHECK(redact("http://h/p?a=1&") == "http://h/p?a=***&");
  CHECK(redact("http://h/p") == "http://h/p");
  auto shown = redact("http://u:pw@h/p?apikey=abc#frag", true);
  CHECK(shown == "http://u:***@h/p?apikey=abc#frag");
  CHECK(redact(redact("http://h/p?a=1&b=2")) == "http://h/p?a=***&b=***");
}

TEST_CASE("every URL in an error text is redacted: a redirect's Location, a "
          "value quoted back") {
  CHECK(redact_urls_in("redirected to https://h/next?sig=abc, then 'x'") ==
        "redirected to https://h/next?sig=***, then 'x'");
  CHECK(redact_urls_in("at http://u:pw@a/?k=1 and \"http://b/?t=2\"") ==
        "at http://u:***@a/?k=*** and \"http://b/?t=***\"");
  CHECK(redact_urls_in("no URL here") == "no URL here");
}

TEST_CASE("a password quoted in an error text is shown as ***") {
  CHECK(redact_password_in("failed at http://u:hunter2@h/ (hunter2)",
                           "http://u:hunter2@h/") ==
        "failed at http://u:***@h/ (***)");
  CHECK(redact_password_in("no secret here", "http://h/") == "no secret here");
}

TEST_CASE("an international host name is refused with its punycode form "
          "when libcurl cannot poll it, and accepted when it can") {
  CHECK(punycode_host("bücher.example") == "xn--bcher-kva.example");
  CHECK(punycode_host("münchen.de") == "xn--mnchen-3ya.de");
  CHECK(punycode_host("例え.テスト") == "xn--r8jz45g.xn--zckzah");
  CHECK(punycode_host("example.org") == "example.org");
  auto reason = check_url("http://bücher.example/", false).value_or("");
  CHECK_MESSAGE(reason.find("write it in its punycode form, "
                            "'xn--bcher-kva.example'") != std::string::npos,
                reason);
  CHECK_FALSE(check_url("http://xn--bcher-kva.example/", false));
  CHECK_FALSE(check_url("http://bücher.example/", true));
}

TEST_CASE("a host that is not UTF-8 has no punycode form") {
  // Found by tests/fuzz/url_check (crash-overlong-utf8): these were taken as
  // characters and came back as they were, bytes past ASCII in a name that
  // the error told the user to write instead.
  CHECK(punycode_host("\xc0\x80.example").empty());         // overlong U+0000
  CHECK(punycode_host("a\xe0\x80\xaf.example").empty());    // overlong '/'
  CHECK(punycode_host("\xed\xa0\x80.example").empty());     // a surrogate
  CHECK(punycode_host("\xf4\x90\x80\x80.example").empty()); // past U+10FFFF
  CHECK(punycode_host("\xf4\x8f\xbf\xbf") == "xn--dn32g");  // U+10FFFF
  auto reason = check_url("http://\xc0\x80.example/", false).value_or("");
  CHECK_MESSAGE(reason.find("is not valid UTF-8") != std::string::npos, reason);
}

TEST_CASE("a webhook is shown by scheme, host and port: its path may be its "
          "secret") {
  CHECK(urlpoll::origin_of("https://hooks.slack.com/services/T000/B000/XXXX") ==
        "https://hooks.slack.com:443");
  CHECK(urlpoll::origin_of("http://user:pw@127.0.0.1:8080/hook?key=s3cret") ==
        "http://127.0.0.1:8080");
  CHECK(urlpoll::origin_of("not a url").empty());
}
