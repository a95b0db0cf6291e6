#include "app/targets.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <re2/re2.h>
#include <sstream>

#include "actors/target_url.hpp"
#include "actors/transfer_outcome.hpp"
#include "app/config.hpp"

namespace urlpoll {

std::string resolve_path(const std::string& path, const std::string& origin,
                         const std::string& config_file) {
  if (path.empty() || path.front() == '/' || config_file.empty() ||
      origin.compare(0, config_file.size() + 1, config_file + ":") != 0)
    return path;
  auto slash = config_file.rfind('/');
  if (slash == std::string::npos)
    return path;
  return config_file.substr(0, slash + 1) + path;
}

std::string read_secret_file(const std::string& path, std::string& out) {
  // Larger is no secret but the wrong file (a key store, a log).
  constexpr std::streamoff most = 64 * 1024;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return "cannot read '" + path + "': it is a directory, not a file";
  std::ifstream file{path, std::ios::binary};
  if (!file)
    return "cannot read '" + path + "': " + std::strerror(errno);
  std::string text;
  text.resize(static_cast<size_t>(most) + 1);
  file.read(text.data(), most + 1);
  if (file.bad())
    return "cannot read '" + path + "': " + std::strerror(errno);
  text.resize(static_cast<size_t>(file.gcount()));
  if (file.gcount() > most)
    return "'" + path + "' is larger than 64 KiB: is it the right file?";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  if (text.empty())
    return "'" + path + "' is empty: write the secret in it";
  out = std::move(text);
  return {};
}

std::string read_method(const std::string& text, http_method& out) {
  auto upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  if (upper == "GET")
    out = http_method::get;
  else if (upper == "HEAD")
    out = http_method::head;
  else
    return "must be \"HEAD\" or \"GET\", not \"" + text + "\"";
  return {};
}

const std::vector<rule_key>& rule_keys() {
  using k = rule_kind;
  static const std::vector<rule_key> keys{
    {"name", nullptr, k::text, 0, 0, "the redacted URL",
     "unique; shown in the table, the JSON, failure lines and transitions"},
    {"url", nullptr, k::text, 0, 0, "(required)", "`http://` or `https://`"},
    {"show-query", "show-query", k::boolean, 0, 0, "`false`",
     "show the URL's query values in every output (the table, the JSON, the "
     "API, `/metrics`, events, alerts, the history) and in the name of a "
     "target without one; else each shows as `***` "
     "(`?apikey=***&page=***`), and the fragment not at all"},
    {"method", "method", k::method, 0, 0, "`\"HEAD\"`",
     "`\"HEAD\"` or `\"GET\"` (in any case); a HEAD answered 405 or 501 is "
     "retried at once with GET, and GET is used from then on"},
    {"interval", "poll-interval", k::duration, 0, 0, "`60s`",
     "time between polls of a healthy target"},
    {"timeout", "timeout", k::duration, 0, 0, "`10s`",
     "the whole transfer, redirects included; a poll taking longer fails "
     "with \"timed out after 10 s\""},
    {"expect", "expect", k::expect, 0, 0, "`[\"200-399\"]`",
     "the status codes that are up: numbers and `\"from-to\"` ranges, "
     "100-599"},
    {"follow-redirects", "follow-redirects", k::boolean, 0, 0, "`false`",
     "follow `Location:` (http and https only) instead of judging the 3xx "
     "answer"},
    {"max-redirects", "max-redirects", k::whole_number, 0, 100, "`10`",
     "redirects followed at most; more is down (\"a redirect loop?\")"},
    {"headers", "headers", k::headers, 0, 0, "`{}`",
     "request headers, `{ Name = \"value\" }`; values never appear in any "
     "output"},
    {"headers-file", "headers-file", k::path, 0, 0, "none",
     "request headers from a file, a `Name: value` line each (blank lines "
     "and `#` lines ignored), reread at every reload: secrets out of the "
     "config file; not together with `headers`"},
    {"insecure", "insecure", k::boolean, 0, 0, "`false`",
     "skip TLS certificate verification (and certificate expiry checks)"},
    {"ca-file", "ca-file", k::path, 0, 0, "the system's",
     "a PEM file of CA certificates to trust instead"},
    {"fresh-connection", "fresh-connection", k::boolean, 0, 0, "`false`",
     "open a new connection for every poll, the way blackbox_exporter "
     "probes, so that a server that stopped accepting connections is seen "
     "even while old connections still answer"},
    {"degraded-latency", "degraded-latency", k::duration, 0, 0, "`0s` (never)",
     "an up answer slower than this is degraded"},
    {"failure-threshold", "failure-threshold", k::whole_number, 1, 1000, "`1`",
     "consecutive failures before the target is down"},
    {"success-threshold", "success-threshold", k::whole_number, 1, 1000, "`1`",
     "consecutive successes before a down target is up again"},
    {"retry-interval", "retry-interval", k::duration, 0, 0,
     "`0s`: the back-off",
     "while the target fails (before and after it is confirmed down), poll "
     "this often instead of `interval` plus `error-backoff`"},
    {"error-backoff", "error-backoff", k::duration, 0, 0, "`10s`",
     "added to the interval for each consecutive failure, when there is no "
     "`retry-interval`"},
    {"max-backoff", "max-backoff", k::duration, 0, 0, "`10min`",
     "the most back-off added: the delay after a failure is `interval + "
     "min(error-backoff × consecutive failures, max-backoff)`"},
    {"body-match", "body-match", k::text, 0, 0, "none",
     "with `GET`: text the body must contain, or `/regex/` (RE2 syntax: "
     "linear time, no back-references) it must match"},
    {"max-body", "max-body", k::whole_number, 1, 64 * 1024 * 1024, "`65536`",
     "bytes of body read at most; the transfer ends there and the answer is "
     "judged on what arrived"},
    {"cert-expiry-warn", "cert-expiry-warn", k::duration, 0, 0,
     "`336h` (14 days)",
     "an https target whose certificate expires within this is degraded"},
    {"flap-threshold", "flap-threshold", k::whole_number, 0, 100, "`5`",
     "state changes within `flap-window` that make a target flapping; 0 "
     "turns it off"},
    {"flap-window", "flap-window", k::duration, 0, 0, "`10min`",
     "see `flap-threshold`"},
  };
  return keys;
}

const rule_key* find_rule_key(const std::string& name) {
  for (auto& key : rule_keys())
    if (name == key.key || (key.option != nullptr && name == key.option))
      return &key;
  return nullptr;
}

std::string read_rule(const rule_key& key, const caf::config_value& value,
                      target_rules& rules, state_rules& state) {
  auto shown = [&] {
    return redact_urls_in(caf::to_string(value));
  };
  auto text = caf::get_if<std::string>(&value);
  auto name = std::string{key.key};
  auto& check = rules.check;
  auto& schedule = rules.schedule;
  switch (key.kind) {
  case rule_kind::text:
  case rule_kind::path:
    if (text == nullptr)
      return "must be a string in double quotes, not " + shown();
    if (name == "ca-file")
      check.ca_file = *text;
    else if (name == "headers-file")
      return text->empty() ? std::string{}
                           : read_headers_file(*text, check.headers);
    else if (name == "body-match")
      check.body_match = *text;
    return {};
  case rule_kind::method:
    if (text == nullptr)
      return "must be \"HEAD\" or \"GET\", not " + shown();
    return read_method(*text, check.method);
  case rule_kind::expect:
    return read_expect(value, check.expect);
  case rule_kind::headers:
    return read_headers(value, check.headers);
  case rule_kind::boolean: {
    auto x = caf::get_if<bool>(&value);
    if (x == nullptr)
      return "must be true or false, not " + shown();
    if (name == "follow-redirects")
      check.follow_redirects = *x;
    else if (name == "insecure")
      check.insecure = *x;
    else if (name == "fresh-connection")
      schedule.fresh_connection = *x;
    else if (name == "show-query")
      rules.show_query = *x;
    return {};
  }
  case rule_kind::duration: {
    auto x = caf::get_if<caf::timespan>(&value);
    if (x == nullptr)
      return "must be a duration such as 250ms, 10s or 2min, not " + shown();
    caf::timespan* field =
      name == "interval"           ? &schedule.interval
      : name == "timeout"          ? &schedule.timeout
      : name == "retry-interval"   ? &schedule.retry_interval
      : name == "error-backoff"    ? &schedule.error_backoff
      : name == "max-backoff"      ? &schedule.max_backoff
      : name == "degraded-latency" ? &check.degraded_latency
      : name == "cert-expiry-warn" ? &check.cert_expiry_warn
                                   : &state.flap_window;
    *field = *x;
    return {};
  }
  case rule_kind::whole_number: {
    auto x = caf::get_if<int64_t>(&value);
    if (x == nullptr || *x < key.min || *x > key.max)
      return "must be a whole number from " + std::to_string(key.min) + " to " +
             std::to_string(key.max) + ", not " + shown();
    if (name == "max-redirects")
      check.max_redirects = static_cast<uint16_t>(*x);
    else if (name == "max-body")
      check.max_body = static_cast<uint32_t>(*x);
    else if (name == "failure-threshold")
      state.failure_threshold = static_cast<uint32_t>(*x);
    else if (name == "success-threshold")
      state.success_threshold = static_cast<uint32_t>(*x);
    else
      state.flap_threshold = static_cast<uint32_t>(*x);
    return {};
  }
  }
  return {};
}

std::string rule_keys_markdown() {
  std::string out = "| key | [urlpoll] default | built in | meaning |\n"
                    "|---|---|---|---|\n";
  for (auto& key : rule_keys()) {
    auto option = key.option == nullptr ? std::string{"-"}
                                        : "`" + std::string{key.option} + "`";
    out += "| `" + std::string{key.key} + "` | " + option + " | " +
           key.default_text + " | " + key.help + " |\n";
  }
  return out;
}

const std::vector<std::string>& target_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> result;
    for (auto& key : rule_keys())
      result.emplace_back(key.key);
    return result;
  }();
  return keys;
}

namespace {

std::string trimmed(std::string x) {
  auto first = x.find_first_not_of(" \t");
  auto last = x.find_last_not_of(" \t");
  return first == std::string::npos ? "" : x.substr(first, last - first + 1);
}

// "200" or "300-399" -> a range; nullopt when malformed.
std::optional<status_range> parse_range(const std::string& text) {
  auto is_code = [](const std::string& x) {
    return x.size() == 3 && std::all_of(x.begin(), x.end(), ::isdigit);
  };
  auto dash = text.find('-');
  auto from = trimmed(text.substr(0, dash));
  auto to = dash == std::string::npos ? from : trimmed(text.substr(dash + 1));
  if (!is_code(from) || !is_code(to))
    return std::nullopt;
  return status_range{static_cast<uint16_t>(std::stoi(from)),
                      static_cast<uint16_t>(std::stoi(to))};
}

} // namespace

std::string read_expect(const caf::config_value& value,
                        std::vector<status_range>& out) {
  std::vector<caf::config_value> items;
  if (auto list = caf::get_if<caf::config_value::list>(&value))
    items = *list;
  else
    items.push_back(value);
  if (items.empty())
    return "must name at least one status code, e.g. [200, \"300-399\"]";
  std::vector<status_range> result;
  for (auto& item : items) {
    std::optional<status_range> range;
    if (auto code = caf::get_if<int64_t>(&item))
      range =
        status_range{static_cast<uint16_t>(std::clamp<int64_t>(*code, 0, 999)),
                     static_cast<uint16_t>(std::clamp<int64_t>(*code, 0, 999))};
    else if (auto text = caf::get_if<std::string>(&item))
      range = parse_range(*text);
    if (!range)
      return "'" + caf::to_string(item) +
             "' is not a status code (200) or "
             "a range of them (\"300-399\")";
    if (range->from < 100 || range->to > 599)
      return "'" + caf::to_string(item) + "': status codes are 100-599";
    if (range->from > range->to)
      return "'" + caf::to_string(item) +
             "' runs backwards: write the "
             "smaller code first";
    result.push_back(*range);
  }
  out = std::move(result);
  return {};
}

namespace {

// One header as "Name: value", or the problem in words.
std::string add_header(const std::string& name, const std::string& value,
                       std::vector<std::string>& out) {
  auto bad_name =
    name.empty() || name.find_first_of(": \t\r\n") != std::string::npos;
  if (bad_name)
    return "'" + name + "' is not a header name";
  if (value.find_first_of("\r\n") != std::string::npos)
    return "the value of header '" + name + "' must be one line";
  out.push_back(name + ": " + value);
  return {};
}

} // namespace

std::string read_headers(const caf::config_value& value,
                         std::vector<std::string>& out) {
  auto dict = caf::get_if<caf::config_value::dictionary>(&value);
  if (dict == nullptr)
    return "must be a dictionary such as { Authorization = \"Bearer x\" }";
  std::vector<std::string> result;
  for (auto& [name, v] : *dict) {
    auto text = caf::get_if<std::string>(&v);
    if (text == nullptr)
      return "the value of header '" + name +
             "' must be a string in "
             "double quotes";
    if (auto problem = add_header(name, *text, result); !problem.empty())
      return problem;
  }
  out = std::move(result);
  return {};
}

std::string read_headers_file(const std::string& path,
                              std::vector<std::string>& out) {
  std::string text;
  if (auto problem = read_secret_file(path, text); !problem.empty())
    return problem;
  std::vector<std::string> result;
  std::istringstream lines{text};
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    auto colon = line.find(':');
    auto value = colon == std::string::npos ? "" : line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    // Never quoted: the line may be the secret, written wrong.
    if (colon == std::string::npos ||
        !add_header(line.substr(0, colon), value, result).empty())
      return path + ":" + std::to_string(number) +
             ": write each header as Name: value (a name without spaces)";
  }
  out = std::move(result);
  return {};
}

namespace {

/// The longest body-match /regex/: longer ones are mistakes, and each
/// poller keeps every pattern compiled.
constexpr size_t max_regex_length = 1000;

} // namespace

std::vector<std::pair<std::string, std::string>>
check_rules(const target_rules& rules) {
  std::vector<std::pair<std::string, std::string>> problems;
  auto& check = rules.check;
  auto& pattern = check.body_match;
  if (!pattern.empty() && check.method != http_method::get)
    problems.emplace_back("body-match", "needs method = \"GET\": a HEAD "
                                        "answer has no body");
  if (pattern.size() >= 2 && pattern.front() == '/' && pattern.back() == '/') {
    if (pattern.size() - 2 > max_regex_length) {
      problems.emplace_back(
        "body-match", "a /regex/ of " + std::to_string(pattern.size() - 2) +
                        " characters is too long: at most " +
                        std::to_string(max_regex_length));
    } else {
      // RE2's syntax, as the pollers match it.
      re2::RE2 re{pattern.substr(1, pattern.size() - 2), re2::RE2::Quiet};
      if (!re.ok())
        problems.emplace_back("body-match",
                              pattern +
                                " is not a regular expression (RE2 "
                                "syntax): " +
                                re.error());
    }
  }
  auto positive = [&](const char* key, caf::timespan x) {
    if (x.count() <= 0)
      problems.emplace_back(key, "must be longer than 0s, not " +
                                   format_duration(x));
  };
  auto not_negative = [&](const char* key, caf::timespan x) {
    if (x.count() < 0)
      problems.emplace_back(key,
                            "must not be negative, not " + format_duration(x));
  };
  positive("interval", rules.schedule.interval);
  positive("timeout", rules.schedule.timeout);
  not_negative("retry-interval", rules.schedule.retry_interval);
  not_negative("error-backoff", rules.schedule.error_backoff);
  not_negative("max-backoff", rules.schedule.max_backoff);
  not_negative("degraded-latency", check.degraded_latency);
  not_negative("cert-expiry-warn", check.cert_expiry_warn);
  if (!check.ca_file.empty()) {
    std::ifstream file{check.ca_file};
    if (!file)
      problems.emplace_back("ca-file", "cannot read '" + check.ca_file +
                                         "': " + std::strerror(errno));
  }
  return problems;
}

namespace {

// Reads the keys of one `targets` entry, each with its type, and says what
// is wrong where.
class entry_reader {
public:
  entry_reader(const caf::config_value::dictionary& entry, std::string path,
               const origin_fn& origin, std::vector<std::string>& errors)
    : entry_(entry), path_(std::move(path)), origin_(origin), errors_(errors) {
    // nop
  }

  void fail(const std::string& key, const std::string& what) {
    auto at = key.empty() ? path_ : path_ + "." + key;
    errors_.push_back(origin_(at) + ": " + at + ": " + redact_urls_in(what));
    ++problems_;
  }

  size_t problems() const { return problems_; }

  const caf::config_value* find(const std::string& key) {
    auto i = entry_.find(key);
    return i == entry_.end() ? nullptr : &i->second;
  }

  void read(const char* key, std::string& out) {
    if (auto v = find(key)) {
      if (auto x = caf::get_if<std::string>(v))
        out = *x;
      else
        fail(key, "must be a string in double quotes, not " +
                    redact_urls_in(caf::to_string(*v)));
    }
  }

  void read(const char* key, bool& out) {
    if (auto v = find(key)) {
      if (auto x = caf::get_if<bool>(v))
        out = *x;
      else
        fail(key, "must be true or false, not " + caf::to_string(*v));
    }
  }

  void read(const char* key, caf::timespan& out) {
    if (auto v = find(key)) {
      if (auto x = caf::get_if<caf::timespan>(v))
        out = *x;
      else
        fail(key, "must be a duration such as 250ms, 10s or 2min, not " +
                    caf::to_string(*v));
    }
  }

  template <class Int>
  void read(const char* key, Int& out, int64_t min, int64_t max) {
    if (auto v = find(key)) {
      auto x = caf::get_if<int64_t>(v);
      if (x == nullptr || *x < min || *x > max)
        fail(key, "must be a whole number from " + std::to_string(min) +
                    " to " + std::to_string(max) + ", not " +
                    caf::to_string(*v));
      else
        out = static_cast<Int>(*x);
    }
  }

  void unknown_keys(const std::vector<std::string>& known,
                    const char* what = "a target's") {
    for (auto& [key, value] : entry_) {
      if (std::find(known.begin(), known.end(), key) != known.end())
        continue;
      std::string list;
      for (auto& k : known)
        list += (list.empty() ? "" : ", ") + k;
      fail(key, std::string{"unknown key; "} + what + " keys are: " + list);
    }
  }

private:
  const caf::config_value::dictionary& entry_;
  std::string path_;
  const origin_fn& origin_;
  std::vector<std::string>& errors_;
  size_t problems_ = 0;
};

// Calls `read(dictionary, path)` for each entry of a list of dictionaries,
// and says where one is something else.
template <class Read>
void for_each_entry(const caf::config_value::list& entries,
                    const std::string& path, const origin_fn& origin,
                    const char* example, std::vector<std::string>& errors,
                    Read read) {
  for (size_t i = 0; i < entries.size(); ++i) {
    auto at = path + "[" + std::to_string(i + 1) + "]";
    auto dict = caf::get_if<caf::config_value::dictionary>(&entries[i]);
    if (dict == nullptr)
      errors.push_back(origin(at) + ": " + at +
                       ": must be a dictionary such "
                       "as " +
                       example);
    else
      read(*dict, at, i);
  }
}

} // namespace

void read_targets(const caf::config_value::list& entries,
                  const std::string& path, const target_rules& defaults,
                  const state_rules& state_defaults, const origin_fn& origin,
                  std::vector<target_spec>& out,
                  std::vector<state_rules>& state_sets,
                  std::vector<std::string>& errors) {
  auto example = "{ name = \"api\", url = \"https://host/\" }";
  for_each_entry(
    entries, path, origin, example, errors, [&](auto& dict, auto& at, size_t) {
      entry_reader in{dict, at, origin, errors};
      in.unknown_keys(target_keys());
      target_spec spec;
      auto rules = std::make_shared<target_rules>(defaults);
      auto state = state_defaults;
      in.read("name", spec.name);
      in.read("url", spec.url);
      if (in.find("headers") && in.find("headers-file"))
        in.fail("headers-file", "not together with headers: give one of them");
      if (spec.url.empty())
        in.fail("url",
                "every target needs a url, e.g. url = \"https://host/\"");
      else if (auto problem = check_url(spec.url))
        in.fail("url", "'" + redact(spec.url) + "': " + *problem);
      // The other keys, read as the [urlpoll] defaults are (make_settings).
      for (auto& key : rule_keys())
        if (auto v = in.find(key.key); v != nullptr && key.option != nullptr)
          if (auto problem = read_rule(key, *v, *rules, state);
              !problem.empty())
            in.fail(key.key, problem);
      for (auto& [key, problem] : check_rules(*rules))
        in.fail(key, problem);
      if (in.problems() > 0)
        return;
      spec.rules = std::move(rules);
      state_sets.push_back(state);
      spec.state_rules = static_cast<uint32_t>(state_sets.size() - 1);
      out.push_back(std::move(spec));
    });
}

} // namespace urlpoll

namespace urlpoll {

const std::vector<std::string>& alert_keys() {
  static const std::vector<std::string> keys{
    "name",   "type",    "url",         "url-file", "on", "repeat-interval",
    "format", "timeout", "max-attempts"};
  return keys;
}

void read_alerts(const caf::config_value::list& entries,
                 const std::string& path, const origin_fn& origin,
                 std::vector<alert_rule>& out,
                 std::vector<std::string>& errors) {
  auto example = "{ name = \"ops\", type = \"webhook\", url = "
                 "\"https://hooks.example/x\" }";
  for_each_entry(
    entries, path, origin, example, errors,
    [&](auto& dict, auto& at, size_t i) {
      entry_reader in{dict, at, origin, errors};
      in.unknown_keys(alert_keys(), "an alert's");
      alert_rule rule;
      rule.name = "alert-" + std::to_string(i + 1);
      in.read("name", rule.name);
      std::string type = "webhook";
      in.read("type", type);
      if (type != "webhook")
        in.fail("type", "must be \"webhook\" (the only kind so far), not \"" +
                          type + "\"");
      in.read("url", rule.url);
      std::string url_file;
      in.read("url-file", url_file);
      // The webhook's URL from a file: a Slack hook's path is its secret.
      auto from_file = !url_file.empty() && rule.url.empty();
      auto url_key = from_file ? "url-file" : "url";
      if (!url_file.empty() && !from_file)
        in.fail("url-file", "not together with url: give one of them");
      if (from_file)
        if (auto problem = read_secret_file(url_file, rule.url);
            !problem.empty())
          in.fail(url_key, problem);
      if (rule.url.empty()) {
        if (!from_file)
          in.fail("url", "every alert needs a url, e.g. url = "
                         "\"https://hooks.example/x\", or a url-file");
      } else if (auto problem = check_url(rule.url))
        // A webhook's path is often its secret: scheme, host and port only
        // (a URL that does not even parse is shown, without its password).
        in.fail(url_key,
                "'" +
                  (origin_of(rule.url).empty() ? redact(rule.url)
                                               : origin_of(rule.url) + "/...") +
                  "': " + *problem);
      if (auto v = in.find("on")) {
        auto list = caf::get_if<caf::config_value::list>(v);
        rule.on.clear();
        for (size_t k = 0; list != nullptr && k < list->size(); ++k) {
          auto name = caf::get_if<std::string>(&(*list)[k]);
          if (name != nullptr && *name == "down")
            rule.on.push_back(target_state::down);
          else if (name != nullptr && *name == "degraded")
            rule.on.push_back(target_state::degraded);
          else if (name != nullptr && *name == "up")
            rule.on.push_back(target_state::up);
          else
            list = nullptr;
        }
        if (list == nullptr || rule.on.empty())
          in.fail("on", "must list some of \"down\", \"degraded\" and "
                        "\"up\", e.g. on = [\"down\", \"up\"]");
      }
      in.read("repeat-interval", rule.repeat_interval);
      if (rule.repeat_interval.count() < 0)
        in.fail("repeat-interval", "must not be negative (0s: no reminders)");
      std::string format = "json";
      in.read("format", format);
      if (format == "slack")
        rule.slack = true;
      else if (format != "json")
        in.fail("format",
                "must be \"json\" or \"slack\", not \"" + format + "\"");
      in.read("timeout", rule.timeout);
      if (rule.timeout.count() <= 0)
        in.fail("timeout", "must be longer than 0s");
      in.read("max-attempts", rule.max_attempts, 1, 100);
      if (in.problems() == 0)
        out.push_back(std::move(rule));
    });
}

} // namespace urlpoll
