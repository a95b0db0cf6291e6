#include "actors/target_url.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

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

// Decodes UTF-8 into code points; false when it is not valid UTF-8 (RFC
// 3629): an overlong form ("\xc0\x80" for U+0000), a surrogate or a code
// point past U+10FFFF is no character, and would pass into a host name as it
// came.
bool decode_utf8(const std::string& text, std::vector<uint32_t>& out) {
  static constexpr uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80         ? 1
                    : (c >> 5) == 6  ? 2
                    : (c >> 4) == 14 ? 3
                    : (c >> 3) == 30 ? 4
                                     : 0;
    if (length == 0 || i + length > text.size())
      return false;
    uint32_t point = length == 1 ? c : c & (0x7f >> length);
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next >> 6) != 2)
        return false;
      point = (point << 6) | (next & 0x3f);
    }
    if (point < least[length] || point > 0x10ffff ||
        (point >= 0xd800 && point <= 0xdfff))
      return false;
    out.push_back(point);
    i += length;
  }
  return true;
}

// RFC 3492's encoding of one label of code points, without the "xn--".
std::string punycode_label(const std::vector<uint32_t>& input) {
  constexpr uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
  auto digit = [](uint32_t d) {
    return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
  };
  auto adapt = [&](uint32_t delta, uint32_t points, bool first) {
    delta = first ? delta / damp : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    for (; delta > ((base - tmin) * tmax) / 2; k += base)
      delta /= base - tmin;
    return k + (base - tmin + 1) * delta / (delta + skew);
  };
  std::string out;
  for (auto c : input)
    if (c < 0x80)
      out += static_cast<char>(std::tolower(static_cast<int>(c)));
  auto basic = static_cast<uint32_t>(out.size());
  uint32_t handled = basic;
  if (basic > 0)
    out += '-';
  uint32_t n = 0x80, delta = 0, bias = 72;
  while (handled < input.size()) {
    uint32_t m = UINT32_MAX;
    for (auto c : input)
      if (c >= n && c < m)
        m = c;
    delta += (m - n) * (handled + 1);
    n = m;
    for (auto c : input) {
      if (c < n)
        ++delta;
      if (c != n)
        continue;
      auto q = delta;
      for (uint32_t k = base;; k += base) {
        auto t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
        if (q < t)
          break;
        out += digit(t + (q - t) % (base - t));
        q = (q - t) / (base - t);
      }
      out += digit(q);
      bias = adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return out;
}

// Whether this libcurl turns international host names into punycode itself.
bool curl_has_idn() {
  // Asked once: libcurl's answer never changes, and a reload checks 100,000
  // URLs.
  static const bool idn = [] {
    auto info = curl_version_info(CURLVERSION_NOW);
    return info != nullptr && (info->features & CURL_VERSION_IDN) != 0;
  }();
  return idn;
}

} // namespace

std::string punycode_host(const std::string& host) {
  std::string result;
  size_t begin = 0;
  while (begin <= host.size()) {
    auto end = std::min(host.find('.', begin), host.size());
    auto label = host.substr(begin, end - begin);
    std::vector<uint32_t> points;
    if (!decode_utf8(label, points))
      return {};
    auto ascii = std::all_of(points.begin(), points.end(),
                             [](uint32_t c) { return c < 0x80; });
    if (!result.empty() || begin > 0)
      result += '.';
    result += ascii ? label : "xn--" + punycode_label(points);
    begin = end + 1;
  }
  return result;
}

std::optional<std::string> check_url(const std::string& url) {
  return check_url(url, curl_has_idn());
}

std::optional<std::string> check_url(const std::string& url,
                                     bool idn_supported) {
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
  // The host: after any user info, before any port (checked before libcurl
  // parses it, which may refuse such a host in words less helpful).
  auto host_end = authority.find_first_of("/?#");
  auto host_name = authority.substr(0, host_end);
  if (auto at = host_name.rfind('@'); at != std::string::npos)
    host_name = host_name.substr(at + 1);
  if (auto colon = host_name.rfind(':');
      colon != std::string::npos && host_name.front() != '[')
    host_name = host_name.substr(0, colon);
  auto international = std::any_of(host_name.begin(), host_name.end(),
                                   [](unsigned char c) { return c >= 0x80; });
  if (international && !idn_supported) {
    auto ascii = punycode_host(host_name);
    if (ascii.empty())
      return "the host '" + host_name + "' is not valid UTF-8";
    // libcurl without IDN support would fail every poll with "URL using
    // bad/illegal format": say so now, with the name it can use.
    return "the host '" + host_name +
           "' is an international domain name, which this libcurl cannot "
           "poll: write it in its punycode form, '" +
           ascii + "'";
  }
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

std::string redact(const std::string& url, bool show_query) {
  auto result = url;
  auto query = std::string::npos;
  if (!show_query) {
    auto scheme_end = url.find("://");
    auto after = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    query = url.find_first_of("?#", url.find_first_of("/?#", after));
  }
  if (query != std::string::npos) {
    // Each value goes, its key stays: "a=1&b" becomes "a=***&b".
    auto end = url.find('#', query);
    result.resize(query);
    auto begin = query + 1;
    if (url[query] == '?') {
      result += '?';
      while (begin <= end && begin <= url.size()) {
        auto next = std::min(url.find('&', begin), std::min(end, url.size()));
        auto eq = url.find('=', begin);
        if (begin > query + 1)
          result += '&';
        if (eq < next && eq + 1 < next)
          result.append(url, begin, eq + 1 - begin).append("***");
        else
          result.append(url, begin, next - begin);
        begin = next + 1;
      }
    }
  }
  auto span = find_password(result);
  if (span.password_begin != std::string::npos)
    result.replace(span.password_begin, span.password_end - span.password_begin,
                   "***");
  return result;
}

std::string origin_of(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed{curl_url(),
                                                             curl_url_cleanup};
  if (!parsed ||
      curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return {};
  std::string out;
  for (auto [part, flags, before] :
       {std::tuple{CURLUPART_SCHEME, 0u, ""},
        std::tuple{CURLUPART_HOST, 0u, "://"},
        std::tuple{CURLUPART_PORT, unsigned{CURLU_DEFAULT_PORT}, ":"}}) {
    char* x = nullptr;
    if (curl_url_get(parsed.get(), part, &x, flags) == CURLUE_OK && x) {
      out += before;
      out += x;
    }
    curl_free(x);
  }
  return out;
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

std::string redact_urls_in(std::string text,
                           std::string (*show)(const std::string&)) {
  for (auto scheme = text.find("://"); scheme != std::string::npos;
       scheme = text.find("://", scheme + 3)) {
    auto begin = scheme;
    while (begin > 0 &&
           std::isalpha(static_cast<unsigned char>(text[begin - 1])))
      --begin;
    auto end = text.find_first_of(" \t\r\n\"',]}", scheme + 3);
    auto url = text.substr(begin, end == std::string::npos ? end : end - begin);
    auto shown = show(url);
    if (shown != url) {
      text.replace(begin, url.size(), shown);
      scheme = begin + shown.size() - 3;
    }
  }
  return text;
}

std::string redact_urls_in(std::string text) {
  return redact_urls_in(std::move(text),
                        [](const std::string& url) { return redact(url); });
}

} // namespace urlpoll
