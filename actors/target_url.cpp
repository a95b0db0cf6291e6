#include "actors/target_url.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

#include <curl/curl.h>

namespace urlpoll {

namespace {

struct userinfo_span {
  size_t password_begin = std::string::npos;
  size_t password_end = std::string::npos;
};

// Finds the password in "scheme://user:password@host/...", if there is one.
userinfo_span find_password(const std::string& url) {
  userinfo_span result;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return result;
  auto authority_begin = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_begin);
  if (authority_end == std::string::npos)
    authority_end = url.size();
  auto at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < authority_begin)
    return result;
  auto colon = url.find(':', authority_begin);
  if (colon == std::string::npos || colon > at || colon + 1 == at)
    return result;
  result.password_begin = colon + 1;
  result.password_end = at;
  return result;
}

std::string lowercase(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return x;
}

} // namespace

std::optional<std::string> check_url(const std::string& url) {
  if (url.empty())
    return "the URL is empty";
  auto bad_char = std::find_if(url.begin(), url.end(), [](unsigned char c) {
    return std::isspace(c) || std::iscntrl(c);
  });
  if (bad_char != url.end())
    return "the URL contains whitespace or a control character";
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0)
    return "the URL has no scheme: write it as http://HOST/PATH or "
           "https://HOST/PATH";
  auto scheme = lowercase(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    return "unsupported scheme '" + url.substr(0, scheme_end) +
           "': urlpoll polls http:// and https:// URLs";
  auto authority = url.substr(scheme_end + 3);
  if (authority.empty() || authority.front() == '/' ||
      authority.front() == '?' || authority.front() == '#')
    return "the URL has no host";
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed{curl_url(),
                                                             curl_url_cleanup};
  if (!parsed)
    return "out of memory while parsing the URL";
  auto rc = curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc == CURLUE_NO_HOST)
    return "the URL has no host";
  if (rc != CURLUE_OK)
    return std::string{"malformed URL: "} + curl_url_strerror(rc);
  char* host = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      host == nullptr || *host == '\0') {
    curl_free(host);
    return "the URL has no host";
  }
  curl_free(host);
  return std::nullopt;
}

std::string redact(const std::string& url) {
  auto span = find_password(url);
  if (span.password_begin == std::string::npos)
    return url;
  auto result = url;
  result.replace(span.password_begin, span.password_end - span.password_begin,
                 "***");
  return result;
}

std::string redact_password_in(std::string text, const std::string& url) {
  auto span = find_password(url);
  if (span.password_begin == std::string::npos)
    return text;
  auto password =
    url.substr(span.password_begin, span.password_end - span.password_begin);
  for (auto pos = text.find(password); pos != std::string::npos;
       pos = text.find(password, pos + 3))
    text.replace(pos, password.size(), "***");
  return text;
}

} // namespace urlpoll
