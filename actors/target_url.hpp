// Target URLs: which ones urlpoll can poll, and how they are shown without
// their secrets.
#pragma once

#include <optional>
#include <string>

namespace urlpoll {

/// Nothing when urlpoll can poll `url`; otherwise what is wrong with it, in
/// words a user can act on (no scheme, unsupported scheme, no host, ...).
std::optional<std::string> check_url(const std::string& url);

/// `url` as written, with the password of its user info replaced by `***`:
/// "http://user:secret@host/" becomes "http://user:***@host/".
std::string redact(const std::string& url);

/// `text` with every occurrence of the password in `url` replaced by `***`,
/// for error texts that might quote the URL.
std::string redact_password_in(std::string text, const std::string& url);

} // namespace urlpoll
