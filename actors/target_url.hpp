// Target URLs: which ones urlpoll can poll, and how they are shown without
// their secrets.
#pragma once

#include <optional>
#include <string>

namespace urlpoll {

/// Nothing when urlpoll can poll `url`; otherwise what is wrong with it, in
/// words a user can act on (no scheme, unsupported scheme, no host, ...).
std::optional<std::string> check_url(const std::string& url);

/// check_url for a libcurl with or without IDN support: without it, a host
/// such as bücher.example is refused with its punycode form to write instead.
std::optional<std::string> check_url(const std::string& url,
                                     bool idn_supported);

/// `host` with each label that is not ASCII in its punycode form (RFC 3492):
/// "bücher.example" becomes "xn--bcher-kva.example". Empty when `host` is
/// not valid UTF-8.
std::string punycode_host(const std::string& host);

/// `url` as it may be shown: the password of its user info as `***`, and
/// unless `show_query` the value of each query parameter as `***` and no
/// fragment (API keys and tokens travel there). A parameter without a
/// value stays as it is. "http://u:pw@h/p?apikey=abc&x=1&flag#top" becomes
/// "http://u:***@h/p?apikey=***&x=***&flag".
std::string redact(const std::string& url, bool show_query = false);

/// Scheme, host and port only: "https://hooks.slack.com:443". How a
/// webhook's URL is shown, since its path is often its secret (Slack's
/// /services/T000/B000/XXXX). Empty when `url` does not parse.
std::string origin_of(const std::string& url);

/// `text` with every occurrence of the password in `url` replaced by `***`,
/// for error texts that might quote the URL.
std::string redact_password_in(std::string text, const std::string& url);

/// `text` with every URL in it (a word with "://") shown as `show` shows it:
/// for error texts that quote a value or a URL (a redirect's Location).
std::string redact_urls_in(std::string text,
                           std::string (*show)(const std::string&));

/// `text` with every URL in it redacted (passwords and query values as
/// `***`).
std::string redact_urls_in(std::string text);

} // namespace urlpoll
