#include "app/targets.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>

#include "actors/target_url.hpp"
#include "actors/transfer_outcome.hpp"
#include "app/config.hpp"

namespace urlpoll {

const std::vector<std::string>& target_keys() {
  static const std::vector<std::string> keys{"name",
                                             "url",
                                             "method",
                                             "interval",
                                             "timeout",
                                             "expect",
                                             "follow-redirects",
                                             "max-redirects",
                                             "headers",
                                             "insecure",
                                             "ca-file",
                                             "fresh-connection",
                                             "degraded-latency",
                                             "failure-threshold",
                                             "success-threshold",
                                             "retry-interval",
                                             "error-backoff",
                                             "max-backoff",
                                             "body-match",
                                             "max-body",
                                             "cert-expiry-warn",
                                             "flap-threshold",
                                             "flap-window"};
  return keys;
}

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

std::string redact_urls_in(std::string text) {
  for (auto scheme = text.find("://"); scheme != std::string::npos;
       scheme = text.find("://", scheme + 3)) {
    auto begin = scheme;
    while (begin > 0 &&
           std::isalpha(static_cast<unsigned char>(text[begin - 1])))
      --begin;
    auto end = text.find_first_of(" \t\r\n\"',]}", scheme + 3);
    auto url = text.substr(begin, end == std::string::npos ? end : end - begin);
    auto shown = redact(url);
    if (shown != url)
      text.replace(begin, url.size(), shown);
  }
  return text;
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
    auto bad_name =
      name.empty() || name.find_first_of(": \t\r\n") != std::string::npos;
    if (bad_name)
      return "'" + name + "' is not a header name";
    if (text->find_first_of("\r\n") != std::string::npos)
      return "the value of header '" + name + "' must be one line";
    result.push_back(name + ": " + *text);
  }
  out = std::move(result);
  return {};
}

std::vector<std::pair<std::string, std::string>>
check_rules(const target_rules& rules) {
  std::vector<std::pair<std::string, std::string>> problems;
  auto& check = rules.check;
  auto& pattern = check.body_match;
  if (!pattern.empty() && check.method != http_method::get)
    problems.emplace_back("body-match", "needs method = \"GET\": a HEAD "
                                        "answer has no body");
  if (pattern.size() >= 2 && pattern.front() == '/' && pattern.back() == '/') {
    try {
      std::regex{pattern.substr(1, pattern.size() - 2)};
    } catch (const std::regex_error& err) {
      problems.emplace_back(
        "body-match", pattern + " is not a regular expression: " + err.what());
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
      if (spec.url.empty())
        in.fail("url",
                "every target needs a url, e.g. url = \"https://host/\"");
      else if (auto problem = check_url(spec.url))
        in.fail("url", "'" + redact(spec.url) + "': " + *problem);
      std::string method = to_string(rules->check.method);
      in.read("method", method);
      if (auto problem = read_method(method, rules->check.method);
          !problem.empty())
        in.fail("method", problem);
      in.read("interval", rules->schedule.interval);
      in.read("timeout", rules->schedule.timeout);
      in.read("retry-interval", rules->schedule.retry_interval);
      in.read("error-backoff", rules->schedule.error_backoff);
      in.read("max-backoff", rules->schedule.max_backoff);
      in.read("fresh-connection", rules->schedule.fresh_connection);
      if (auto v = in.find("expect"))
        if (auto problem = read_expect(*v, rules->check.expect);
            !problem.empty())
          in.fail("expect", problem);
      if (auto v = in.find("headers"))
        if (auto problem = read_headers(*v, rules->check.headers);
            !problem.empty())
          in.fail("headers", problem);
      in.read("follow-redirects", rules->check.follow_redirects);
      in.read("max-redirects", rules->check.max_redirects, 0, 100);
      in.read("insecure", rules->check.insecure);
      in.read("ca-file", rules->check.ca_file);
      in.read("degraded-latency", rules->check.degraded_latency);
      in.read("body-match", rules->check.body_match);
      in.read("max-body", rules->check.max_body, 1, 64 * 1024 * 1024);
      in.read("cert-expiry-warn", rules->check.cert_expiry_warn);
      in.read("failure-threshold", state.failure_threshold, 1, 1000);
      in.read("success-threshold", state.success_threshold, 1, 1000);
      in.read("flap-threshold", state.flap_threshold, 0, 100);
      in.read("flap-window", state.flap_window);
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
    "name",   "type",    "url",         "on", "repeat-interval",
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
      if (rule.url.empty())
        in.fail("url", "every alert needs a url, e.g. url = "
                       "\"https://hooks.example/x\"");
      else if (auto problem = check_url(rule.url))
        in.fail("url", "'" + redact(rule.url) + "': " + *problem);
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
