#include "app/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>

#include <caf/config_option_adder.hpp>
#include <caf/config_option_set.hpp>
#include <caf/config_value.hpp>
#include <caf/detail/parser/read_ini.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/parser_state.hpp>
#include <caf/string_view.hpp>

#include "actors/target_url.hpp"
#include "actors/transfer_outcome.hpp"
#include "app/targets.hpp"

namespace urlpoll {

using namespace std::chrono_literals;

// The default start-spread asks for at most this many first polls a second.
constexpr int64_t first_polls_per_second = 10000;

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "urlpoll";
  return buf;
}

} // namespace

std::optional<worker_address> parse_address(const std::string& text,
                                            bool any_port) {
  worker_address out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() ||
        text[close + 1] != ':')
      return std::nullopt;
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon)
      return std::nullopt;
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (out.host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  auto number = std::stoul(port);
  if (number > 65535 || (number == 0 && !any_port))
    return std::nullopt;
  out.port = static_cast<uint16_t>(number);
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

// Text from the README's Markdown, for --help: `code` loses its backticks,
// [text](#anchor) keeps its text.
std::string plain_text(std::string markdown) {
  markdown.erase(std::remove(markdown.begin(), markdown.end(), '`'),
                 markdown.end());
  static const std::regex link{R"(\[([^\]]*)\]\([^)]*\))"};
  return std::regex_replace(markdown, link, "$1");
}

// A per-target option's help, from the table of rule keys.
std::string rule_help(const char* option) {
  return plain_text(find_rule_key(option)->help);
}

// An option's help, from option_docs().
std::string option_help(const char* option) {
  auto wanted = "`" + std::string{option} + "`";
  for (auto& doc : option_docs())
    if (wanted == doc.option)
      return plain_text(doc.help);
  return {};
}

} // namespace

const std::vector<option_doc>& option_docs() {
  static const std::vector<option_doc> docs{
    {"`urls`", "`[]`",
     "URLs to monitor, e.g. `[\"https://example.org/\", "
     "\"http://10.0.0.5:8080/health\"]`"},
    {"`url-file`", "none",
     "a file with one URL per line; blank lines and lines starting with `#` "
     "are ignored; a relative path set in the config file is relative to its "
     "folder"},
    {"`pollers`", "CPU threads", "number of poller actors doing the HTTP work"},
    {"`max-in-flight`", "`1000`",
     "transfers one poller runs at once; further polls wait in line (their "
     "wait shows as lateness). Bounds connections and memory when the machine "
     "falls behind. A poller starts at most 64 new transfers per round of its "
     "event loop, so against fast targets a few dozen kept-alive connections "
     "carry every poll, and against slow ones in-flight grows to what their "
     "latency needs"},
    {"`status-interval`", "`10s`", "time between status reports"},
    {"`status-format`", "`\"text\"`",
     "`\"text\"` for a summary line and a table of the targets that are not "
     "up (every target while they fit in `status-max-lines`), `\"json\"` for "
     "one JSON document of every target per line, written a page at a time"},
    {"`status-max-lines`", "`50`",
     "the text status lists at most this many targets under its summary "
     "line: every target while they fit, else those not up, down first, "
     "then degraded, flapping, unknown; then \"and N more\". 0: the "
     "summary line alone"},
    {"`metrics-per-target`", "`true`",
     "`/metrics` has series for every target (15 or 16 per target: plan "
     "for the cardinality); `false`: only the aggregates (targets by state, "
     "lateness, nodes, alerts), a few dozen series however many targets"},
    {"`once`", "`false`",
     "poll every target once, print one JSON snapshot and exit: 0 if every "
     "target is up or degraded, 1 if some target is down or could not be "
     "polled. A check, not a second daemon: it sends no alert, writes no "
     "events and no history, and one poll decides each target (no "
     "thresholds, retries or flapping), so cron can run it beside a daemon "
     "on the same file (see [A check from cron or CI](#a-check-from-cron-"
     "or-ci-once))"},
    {"`start-spread`",
     "the smaller of `poll-interval` and `10s` (for more than 100,000 "
     "targets: the targets / 10,000 s)",
     "the first polls of all targets are spread evenly over this time; each "
     "target then keeps its own phase, so load stays flat instead of arriving "
     "in bursts (`once` polls everything at once)"},
    {"`timer-resolution`", "`10ms`",
     "polls due within one tick of this length are started together; a poll "
     "starts at most this much after it is due (plus scheduling delays, which "
     "`lateness` shows)"},
    {"`role`", "`\"standalone\"`",
     "`standalone` polls its own targets; `worker` runs pollers for "
     "coordinators; `coordinator` owns the targets and polls through workers "
     "([Running on several machines](#running-on-several-machines))"},
    {"`listen`", "`\"127.0.0.1:9190\"`",
     "worker: where to listen, `host:port` (`[::1]:9190` for IPv6; port 0 "
     "picks a free one, printed at start)"},
    {"`node-name`", "the host name",
     "this node's name in results, views, logs and the User-Agent "
     "(`urlpoll/0.1.0 (node NAME)`)"},
    {"`workers`", "`[]`", "coordinator: the workers' `host:port`"},
    {"`local-pollers`", "`true`",
     "coordinator: poll with its own pollers too, as one more node"},
    {"`dispatch`", "`\"spread\"`",
     "coordinator: `spread` sends each poll to one node (round robin), "
     "`vantage` sends it to every node"},
    {"`quorum`", "`0`",
     "vantage: nodes that must see a target down for it to be down; 0 is a "
     "majority of the nodes polled"},
    {"`lost-node-expiry`", "`5min`",
     "vantage: how long a lost node's last view of each target stands in "
     "for it (losing a node never changes a verdict by itself); then the "
     "quorum is taken over the nodes left"},
    {"`targets`", "`[]`",
     "targets with their own rules, see [Per-target rules](#per-target-rules)"},
    // The defaults of every target's rules: one row, written from
    // rule_keys().
    {"", "see below",
     "the defaults of every target's rules, for `urls`, `url-file` and "
     "`targets` alike; each is described in the next section"},
    {"`events`", "`\"\"`",
     "write each transition as a JSON line: `\"stdout\"`, or a file path "
     "(appended to); empty: nowhere"},
    {"`log-level`", "`\"info\"`",
     "the least urgent log lines written to stderr: `\"error\"` (urlpoll's "
     "own failures), `\"warning\"` (and each failed poll, each alert "
     "retried), `\"notice\"` (and reloads, a database writable again) or "
     "`\"info\"` (everything); under systemd each line carries its "
     "priority for `journalctl -p`"},
    {"`http-listen`", "`\"127.0.0.1:9180\"`",
     "the HTTP API, `/metrics` and the status page; empty: off"},
    {"`http-token`", "`\"\"`",
     "require `Authorization: Bearer TOKEN` on every endpoint but `/healthz` "
     "and the page itself"},
    {"`http-token-file`", "none",
     "the `http-token` from a file (its text, without a trailing newline), "
     "so that the config file holds no secret; not together with "
     "`http-token`"},
    {"`watch-config`", "`false`",
     "reload when the config file or the `url-file` changes on disk, as SIGHUP "
     "and `POST /-/reload` do (see [Changing the "
     "configuration](#changing-the-configuration))"},
    {"`alerts`", "`[]`", "webhooks to alert, see [Alerts](#alerts)"},
    {"`history`", "`\"urlpoll-history.db\"`",
     "the SQLite file that keeps transitions, hourly and daily figures, and "
     "what a restart resumes (state, counters, open alerts), or a PostgreSQL "
     "URI (`\"postgresql://urlpoll@db.example.org/urlpoll\"`) that a pair of "
     "coordinators shares (see [High availability](#high-availability)); a "
     "relative path "
     "is relative to the config file's folder, or under systemd to its "
     "`StateDirectory` (`/var/lib/urlpoll`); empty: no history (see "
     "[History and uptime](#history-and-uptime)); `once` keeps none"},
    {"`history-password-file`", "none",
     "the password of a PostgreSQL `history` from a file (its text, without "
     "a trailing newline), so that the URI holds none; not together with a "
     "password in the URI"},
    {"`history-flush`", "`1min`",
     "how often the hour being counted is written (transitions, states and "
     "counters: every second); `kill -9` loses the hour's polls and latency "
     "since the last one"},
    {"`history-hourly`", "`336h` (14 days)",
     "hourly figures are rolled into daily ones after this long"},
    {"`history-retention`", "`9600h` (400 days)",
     "daily figures, transitions and runs are kept this long"},
    {"`ha-takeover`", "`10s`",
     "with a PostgreSQL history: at most this long after the leading "
     "coordinator died or hung, a standby leads (see [High "
     "availability](#high-availability))"},
  };
  return docs;
}

std::string options_markdown() {
  std::string out = "| option | default | meaning |\n|---|---|---|\n";
  for (auto& doc : option_docs()) {
    std::string option = doc.option;
    for (auto& key : option.empty() ? rule_keys() : std::vector<rule_key>{})
      if (key.option != nullptr)
        option +=
          (option.empty() ? "`" : ", `") + std::string{key.option} + "`";
    out += "| " + option + " | " + doc.default_text + " | " + doc.help + " |\n";
  }
  return out;
}

config::config()
  : pollers(std::max(1u, std::thread::hardware_concurrency())),
    poll_interval(60s), error_backoff(10s), max_backoff(10min), timeout(10s),
    status_interval(10s), status_format("text"), start_spread(-1),
    timer_resolution(10ms), role("standalone"),
    listen("127.0.0.1:" + std::to_string(default_worker_port)),
    node_name(host_name()), dispatch("spread"), method("HEAD"),
    degraded_latency(0), retry_interval(0), cert_expiry_warn(336h),
    flap_window(10min), http_listen("127.0.0.1:9180"), history_flush(1min),
    history_hourly(336h), history_retention(9600h), ha_takeover(10s) {
  caf::config_option_adder{custom_options_, "urlpoll"}
    .add(urls, "urls", option_help("urls"))
    .add(url_file, "url-file", option_help("url-file"))
    .add(pollers, "pollers", option_help("pollers"))
    .add(max_in_flight, "max-in-flight", option_help("max-in-flight"))
    .add(poll_interval, "poll-interval", rule_help("poll-interval"))
    .add(error_backoff, "error-backoff", rule_help("error-backoff"))
    .add(max_backoff, "max-backoff", rule_help("max-backoff"))
    .add(timeout, "timeout", rule_help("timeout"))
    .add(status_interval, "status-interval", option_help("status-interval"))
    .add(status_format, "status-format", option_help("status-format"))
    .add(status_max_lines, "status-max-lines", option_help("status-max-lines"))
    .add(metrics_per_target, "metrics-per-target",
         option_help("metrics-per-target"))
    .add(once, "once", option_help("once"))
    .add(start_spread, "start-spread", option_help("start-spread"))
    .add(fresh_connection, "fresh-connection", rule_help("fresh-connection"))
    .add(timer_resolution, "timer-resolution", option_help("timer-resolution"))
    .add(role, "role", option_help("role"))
    .add(listen, "listen", option_help("listen"))
    .add(node_name, "node-name", option_help("node-name"))
    .add(workers, "workers", option_help("workers"))
    .add(local_pollers, "local-pollers", option_help("local-pollers"))
    .add(dispatch, "dispatch", option_help("dispatch"))
    .add(quorum, "quorum", option_help("quorum"))
    .add(lost_node_expiry, "lost-node-expiry", option_help("lost-node-expiry"))
    .add(method, "method", rule_help("method"))
    .add(follow_redirects, "follow-redirects", rule_help("follow-redirects"))
    .add(max_redirects, "max-redirects", rule_help("max-redirects"))
    .add(insecure, "insecure", rule_help("insecure"))
    .add(show_query, "show-query", rule_help("show-query"))
    .add(headers_file, "headers-file", rule_help("headers-file"))
    .add(ca_file, "ca-file", rule_help("ca-file"))
    .add(degraded_latency, "degraded-latency", rule_help("degraded-latency"))
    .add(failure_threshold, "failure-threshold", rule_help("failure-threshold"))
    .add(success_threshold, "success-threshold", rule_help("success-threshold"))
    .add(retry_interval, "retry-interval", rule_help("retry-interval"))
    .add(body_match, "body-match", rule_help("body-match"))
    .add(max_body, "max-body", rule_help("max-body"))
    .add(cert_expiry_warn, "cert-expiry-warn", rule_help("cert-expiry-warn"))
    .add(flap_threshold, "flap-threshold", rule_help("flap-threshold"))
    .add(flap_window, "flap-window", rule_help("flap-window"))
    .add(http_listen, "http-listen", option_help("http-listen"))
    .add(http_token, "http-token", option_help("http-token"))
    .add(http_token_file, "http-token-file", option_help("http-token-file"))
    .add(watch_config, "watch-config", option_help("watch-config"))
    .add(events, "events", option_help("events"))
    .add(log_level, "log-level", option_help("log-level"))
    .add(history, "history", option_help("history"))
    .add(history_password_file, "history-password-file",
         option_help("history-password-file"))
    .add(history_flush, "history-flush", option_help("history-flush"))
    .add(history_hourly, "history-hourly", option_help("history-hourly"))
    .add(history_retention, "history-retention",
         option_help("history-retention"))
    .add(ha_takeover, "ha-takeover", option_help("ha-takeover"));
  caf::config_option_adder{custom_options_, "openssl"}.add(
    openssl_passphrase_file, "passphrase-file",
    "the passphrase of openssl.key from a file (its text, without a "
    "trailing newline); not together with openssl.passphrase");
  // Nodes talk through CAF's middleman, over TLS when openssl.* is set.
  load<caf::io::middleman>();
  load<caf::openssl::manager>();
  add_message_types<caf::id_block::urlpoll>();
}

// -- checking a config file ---------------------------------------------------

namespace {

// The keys under [urlpoll] that urlpoll reads itself (see is_raw_key).
const std::vector<std::string>& raw_keys() {
  static const std::vector<std::string> keys{"targets", "expect", "headers",
                                             "alerts"};
  return keys;
}

} // namespace

bool is_raw_key(const std::string& qualified) {
  const std::string prefix = "urlpoll.";
  if (qualified.compare(0, prefix.size(), prefix) != 0)
    return false;
  auto& keys = raw_keys();
  return std::find(keys.begin(), keys.end(), qualified.substr(prefix.size())) !=
         keys.end();
}

namespace {

using parser_state = caf::string_parser_state;

/// One `key = value` line of a section.
struct ini_entry {
  std::string category;
  std::string name;
  int line;
  caf::config_value value;
};

/// Collects what CAF's INI parser reads, with line numbers: a consumer for
/// caf::detail::parser::read_ini.
class ini_recorder {
public:
  /// A list or dictionary that was opened.
  struct open_container {
    char bracket;
    int line;
    std::string key;
  };

  explicit ini_recorder(const parser_state& ps) : ps_(ps) {
    // nop
  }

  int line() const { return ps_.line; }

  std::vector<ini_entry> entries;
  /// Where each nested value starts: "urlpoll.targets[2].interval" -> line.
  std::map<std::string, int> lines;
  std::vector<open_container> open;
  std::string last_key;

private:
  const parser_state& ps_;
};

/// Plays every role in read_ini's consumer protocol: the document, a
/// section, a dictionary value, a list value.
class ini_node {
public:
  enum class kind { document, section, dictionary, list };

  ini_node(ini_recorder& rec, ini_node* parent, kind k, std::string category,
           std::string path = {})
    : rec_(rec), parent_(parent), kind_(k), category_(std::move(category)),
      path_(std::move(path)) {
    // nop
  }

  void key(std::string name) {
    key_ = std::move(name);
    key_line_ = rec_.line();
    if (kind_ == kind::section)
      rec_.last_key = category_ + "." + key_;
    if (kind_ == kind::dictionary)
      rec_.lines[path_ + "." + key_] = key_line_;
  }

  // The path of the value that starts now: "urlpoll.targets",
  // "urlpoll.targets[2]" (counting from 1, as users do).
  std::string child_path() const {
    if (kind_ == kind::list)
      return path_ + "[" + std::to_string(list_.size() + 1) + "]";
    return (kind_ == kind::section ? category_ : path_) + "." + key_;
  }

  template <class T>
  void value(T&& x) {
    add(caf::config_value{std::forward<T>(x)});
  }

  ini_node begin_map() {
    if (kind_ == kind::document)
      return ini_node{rec_, this, kind::section, key_};
    rec_.open.push_back({'{', rec_.line(), rec_.last_key});
    rec_.lines[child_path()] = rec_.line();
    return ini_node{rec_, this, kind::dictionary, category_, child_path()};
  }

  ini_node begin_list() {
    rec_.open.push_back({'[', rec_.line(), rec_.last_key});
    rec_.lines[child_path()] = rec_.line();
    return ini_node{rec_, this, kind::list, category_, child_path()};
  }

  void end_map() {
    if (kind_ == kind::dictionary) {
      rec_.open.pop_back();
      parent_->add(caf::config_value{std::move(dict_)});
    }
  }

  void end_list() {
    rec_.open.pop_back();
    parent_->add(caf::config_value{std::move(list_)});
  }

private:
  void add(caf::config_value x) {
    switch (kind_) {
    case kind::section:
      rec_.entries.push_back({category_, key_, key_line_, std::move(x)});
      break;
    case kind::dictionary:
      dict_[key_] = std::move(x);
      break;
    case kind::list:
      list_.emplace_back(std::move(x));
      break;
    case kind::document:
      break;
    }
  }

  ini_recorder& rec_;
  ini_node* parent_;
  kind kind_;
  std::string category_;
  std::string path_;
  std::string key_;
  int key_line_ = 0;
  caf::config_value::dictionary dict_;
  caf::config_value::list list_;
};

// Calls `visit(i, line)` for each character of `text` outside "strings"
// and, in a file (`comments`), ; comments, with the line it is on; `visit`
// may move `i` on past what it read, and ends the walk by returning false.
template <class Visit>
void walk_code(const std::string& text, bool comments, Visit visit) {
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
        else if (text[i] == '\n')
          ++line;
    } else if (c == ';' && comments) {
      while (i + 1 < text.size() && text[i + 1] != '\n')
        ++i;
    } else if (!visit(i, line)) {
      return;
    }
  }
}

// CAF reads a duration into int64 nanoseconds and lets a larger one wrap
// around silently (100000000h becomes -8.9e9s): find them in the text, in
// every form CAF reads (-100000000h, 0xffffffffffh, 0b1...h, 0777...h).
// Returns each too large duration with its line, outside "strings" and, in a
// file, ; comments.
std::vector<std::pair<int, std::string>> huge_durations(const std::string& text,
                                                        bool comments) {
  static const std::pair<const char*, long double> units[] = {
    {"ns", 1},     {"us", 1e3}, {"ms", 1e6},
    {"min", 60e9}, {"s", 1e9},  {"h", 3600e9}};
  std::vector<std::pair<int, std::string>> result;
  auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '.' || c == '-';
  };
  auto digit_value = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
           : std::isxdigit(static_cast<unsigned char>(c))
             ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
             : -1;
  };
  // A number starts with a digit, or a sign before one, after no part of a
  // word ("-" is one: flap-window, but not "= -5h").
  auto starts_number = [&](size_t i) {
    auto c = text[i];
    auto digit = [&](size_t k) {
      return k < text.size() &&
             std::isdigit(static_cast<unsigned char>(text[k]));
    };
    return (i == 0 || !word_char(text[i - 1])) &&
           (digit(i) || ((c == '-' || c == '+') && digit(i + 1)));
  };
  walk_code(text, comments, [&](size_t& i, int line) {
    if (!starts_number(i))
      return true;
    // A whole number as CAF reads one: a sign, then 0x and hex digits, 0b
    // and binary digits, 0 and octal digits, or decimal digits.
    auto end = i;
    if (text[end] == '-' || text[end] == '+')
      ++end;
    int base = 10;
    if (text[end] == '0' && end + 1 < text.size()) {
      auto next = text[end + 1];
      if (next == 'x' || next == 'X')
        base = 16;
      else if (next == 'b' || next == 'B')
        base = 2;
      else if (std::isdigit(static_cast<unsigned char>(next)))
        base = 8;
      end += base == 8 ? 1 : base == 10 ? 0 : 2;
    }
    long double count = 0;
    for (; end < text.size(); ++end) {
      auto d = digit_value(text[end]);
      if (d < 0 || d >= base)
        break;
      count = count * base + d;
    }
    // CAF multiplies as soon as it has read a unit, whatever follows it
    // ("-100000000ht" overflows before the 't' is an error).
    for (auto& [unit, nanoseconds] : units) {
      auto length = std::strlen(unit);
      if (text.compare(end, length, unit) != 0)
        continue;
      if (count * nanoseconds >
          static_cast<long double>(std::numeric_limits<int64_t>::max()))
        result.emplace_back(line, text.substr(i, end - i + length));
      end += length;
      break;
    }
    i = end - 1;
    return true;
  });
  return result;
}

/// How deep lists and dictionaries may nest. CAF's parser reads them
/// recursively: 50,000 '[' overflow the stack, and a crash is no way to
/// refuse a configuration (a reload of one would end a running urlpoll).
constexpr int max_nesting = 32;

// The line on which `text` opens more than max_nesting lists and
// dictionaries, outside "strings" and, in a file, ; comments; 0 when it
// never does.
int too_deep(const std::string& text, bool comments) {
  int depth = 0;
  int found = 0;
  walk_code(text, comments, [&](size_t& i, int line) {
    auto c = text[i];
    if (c == '[' || c == '{') {
      if (++depth > max_nesting) {
        found = line;
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    return true;
  });
  return found;
}

std::string too_deep_text() {
  return "lists and dictionaries nested more than " +
         std::to_string(max_nesting) + " deep: urlpoll reads at most " +
         std::to_string(max_nesting) + " levels";
}

std::string too_large(const std::string& duration) {
  return "the duration " + duration +
         " is too large: urlpoll counts time in nanoseconds, up to 2562047h "
         "(about 292 years); give a smaller one";
}

// The secrets urlpoll must never echo: the values of http-token and of
// CAF's openssl.passphrase.
bool is_secret(const std::string& qualified) {
  return qualified == "urlpoll.http-token" || qualified == "openssl.passphrase";
}

// Shows `secret` as *** wherever an error quotes it.
void hide_secret(std::vector<std::string>& errors, const std::string& secret) {
  if (secret.empty())
    return;
  for (auto& error : errors)
    for (auto at = error.find(secret); at != std::string::npos;
         at = error.find(secret, at + 3))
      error.replace(at, secret.size(), "***");
}

std::string where(const std::string& path, int line) {
  return path + ":" + std::to_string(line);
}

std::string describe_syntax_error(const parser_state& ps,
                                  const ini_recorder& rec) {
  std::string result;
  if (ps.code == caf::pec::unexpected_eof && !rec.open.empty()) {
    auto& inner = rec.open.back();
    result = std::string{"the "} +
             (inner.bracket == '[' ? "list" : "dictionary") + " opened with '" +
             inner.bracket + "' on line " + std::to_string(inner.line);
    if (!inner.key.empty())
      result += " for '" + inner.key + "'";
    result += std::string{" is never closed: add the missing '"} +
              (inner.bracket == '[' ? ']' : '}') + "'";
    return result;
  }
  if (ps.code == caf::pec::unexpected_character && ps.i != ps.e) {
    result = std::string{"unexpected character '"} + *ps.i + "'";
  } else if (ps.code == caf::pec::unexpected_newline) {
    result = "unexpected end of line";
  } else if (ps.code == caf::pec::unexpected_eof) {
    result = "unexpected end of file";
  } else if (ps.code == caf::pec::trailing_character) {
    result = "unexpected text: expected [section], key = value or a ; comment";
  } else {
    result = "cannot read this: " + caf::to_string(ps.code);
  }
  if (!rec.last_key.empty())
    result += " in the value of '" + rec.last_key + "'";
  result += "; values are written as 8, 2.5, 10s, \"text\", true, "
            "[\"a\", \"b\"] or { key = value }";
  return result;
}

std::string describe_type(caf::string_view type_name) {
  auto name = std::string{type_name.begin(), type_name.end()};
  if (name == "timespan")
    return "a duration such as 250ms, 10s or 2min";
  if (name.find("int") != std::string::npos)
    return "a whole number";
  if (name == "boolean")
    return "true or false";
  if (name == "string")
    return "a string in double quotes";
  if (name.find("list") != std::string::npos)
    return "a list such as [\"http://a/\", \"http://b/\"]";
  return "a value of type " + name;
}

std::string known_keys(const caf::config_option_set& options,
                       const std::string& category) {
  std::string result;
  if (category == "urlpoll")
    for (auto& key : raw_keys())
      result += (result.empty() ? "" : ", ") + key;
  for (auto& opt : options) {
    if (opt.category() != category)
      continue;
    if (!result.empty())
      result += ", ";
    auto name = opt.long_name();
    result.append(name.begin(), name.end());
  }
  return result;
}

} // namespace

std::vector<std::string>
check_config_file(const caf::config_option_set& options,
                  const std::string& path, std::istream& input,
                  std::map<std::string, std::string>& origins,
                  std::map<std::string, caf::config_value>* raw) {
  std::vector<std::string> errors;
  std::string text{std::istreambuf_iterator<char>{input},
                   std::istreambuf_iterator<char>{}};
  // Before CAF reads the file: its parser multiplies a duration out in
  // int64 nanoseconds, and one too large overflows (undefined behaviour);
  // it reads nested lists by recursion, and too many overflow the stack.
  for (auto& [line, duration] : huge_durations(text, true))
    errors.push_back(where(path, line) + ": " + too_large(duration));
  if (auto line = too_deep(text, true); line > 0)
    errors.push_back(where(path, line) + ": " + too_deep_text());
  if (!errors.empty())
    return errors;
  parser_state ps;
  ps.i = text.data();
  ps.e = text.data() + text.size();
  ini_recorder rec{ps};
  ini_node document{rec, nullptr, ini_node::kind::document, ""};
  caf::detail::parser::read_ini(ps, document);
  if (ps.code != caf::pec::success) {
    auto problem = describe_syntax_error(ps, rec);
    // The character shown may be part of the token.
    if (is_secret(rec.last_key))
      problem = "cannot read the value of '" + rec.last_key +
                "': write it as a string in double quotes";
    errors.push_back(where(path, ps.line) + ":" + std::to_string(ps.column) +
                     ": " + redact_urls_in(problem));
    return errors;
  }
  std::map<std::string, int> first_line;
  for (auto& entry : rec.entries) {
    auto qualified = entry.category + "." + entry.name;
    auto here = where(path, entry.line);
    auto shown = entry.category == "global" ? entry.name : qualified;
    if (auto [i, added] = first_line.emplace(qualified, entry.line); !added) {
      errors.push_back(here + ": '" + shown + "' is set twice (first on line " +
                       std::to_string(i->second) + "): remove one of them");
      continue;
    }
    if (is_raw_key(qualified)) {
      origins[qualified] = here;
      if (raw != nullptr)
        (*raw)[qualified] = entry.value;
      continue;
    }
    auto* opt = options.qualified_name_lookup(entry.category, entry.name);
    if (opt == nullptr) {
      auto keys = known_keys(options, entry.category);
      auto msg =
        here + ": unknown key '" + entry.name + "' in [" + entry.category + "]";
      if (keys.empty())
        msg += ": there is no section [" + entry.category + "]";
      else
        msg += "; the keys there are: " + keys;
      errors.push_back(msg + " (urlpoll --help lists every option)");
      continue;
    }
    if (auto err = opt->check(entry.value)) {
      auto value = is_secret(qualified)
                     ? std::string{"what was given (not shown: a secret)"}
                     : redact_urls_in(caf::to_string(entry.value));
      errors.push_back(here + ": '" + shown + "' must be " +
                       describe_type(opt->type_name()) + ", not " + value);
      continue;
    }
    origins[qualified] = here;
  }
  for (auto& [nested, line] : rec.lines)
    origins.emplace(nested, where(path, line));
  return errors;
}

namespace {

// CAF reports a bad option only as parser_error(...): say which, and why.
std::vector<std::string>
check_command_line(const caf::config_option_set& options,
                   const std::vector<std::string>& argv,
                   std::map<std::string, caf::config_value>& raw) {
  std::vector<std::string> errors;
  for (size_t i = 1; i < argv.size(); ++i) {
    auto& arg = argv[i];
    if (arg == "-h" || arg == "-?")
      continue;
    // CAF stops at the first word that is no option and drops the rest.
    if (arg.compare(0, 2, "--") != 0) {
      auto& before = argv[i - 1];
      auto hint = i > 1 && before.compare(0, 2, "--") == 0 &&
                      before.find('=') == std::string::npos
                    ? "; if it is the value of " + before + ", write " +
                        before + "=" + redact_urls_in(arg)
                    : std::string{};
      errors.push_back(
        "'" + redact_urls_in(arg) +
        "' on the command line is not an option: options are written "
        "--urlpoll.NAME=VALUE" +
        hint + " (urlpoll --help lists every option)");
      continue;
    }
    if (arg.compare(0, 14, "--config-file=") == 0 || arg == "--long-help" ||
        arg == "--dump-config" || arg == "--check-config")
      continue;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      auto huge = huge_durations(arg.substr(eq + 1), false);
      if (!huge.empty()) {
        errors.push_back("'" + arg.substr(0, eq) + "' on the command line: " +
                         too_large(huge.front().second));
        continue;
      }
      if (too_deep(arg.substr(eq + 1), false) > 0) {
        errors.push_back("'" + arg.substr(0, eq) +
                         "' on the command line: " + too_deep_text());
        continue;
      }
    }
    // An argument as the user wrote it, minus any secret in it.
    auto shown = is_secret(arg.substr(2, eq - 2)) ? arg.substr(0, eq) + "=***"
                                                  : redact_urls_in(arg);
    auto name =
      arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (is_raw_key(name)) {
      auto value =
        eq == std::string::npos
          ? caf::expected<caf::config_value>{caf::sec::invalid_argument}
          : caf::config_value::parse(arg.substr(eq + 1));
      if (value)
        raw[name] = std::move(*value);
      else
        errors.push_back("'" + arg.substr(0, 2 + name.size()) +
                         "' needs a value such as " + name +
                         "=[{url=\"https://host/\", interval=30s}] (lists "
                         "and dictionaries as in the config file)");
      continue;
    }
    auto* opt = options.qualified_name_lookup(name);
    if (opt == nullptr) {
      errors.push_back("unknown option '" + arg.substr(0, eq) +
                       "' (urlpoll --help lists every option)");
      continue;
    }
    if (eq == std::string::npos) {
      if (!opt->is_flag())
        errors.push_back("'" + arg + "' needs a value: " + arg + "=VALUE");
      continue;
    }
    // CAF's command line takes flags without a value only; urlpoll takes
    // =true and =false too (see load_config).
    if (opt->is_flag()) {
      auto value = arg.substr(eq + 1);
      if (value != "true" && value != "false")
        errors.push_back("'" + shown + "': " + arg.substr(0, eq) +
                         " is a switch: give it alone or =true to turn it "
                         "on, =false to turn it off");
      continue;
    }
    if (eq + 1 == arg.size() && opt->type_name() == "string")
      continue; // empty: none (see load_config)
    if (!opt->parse(arg.substr(eq + 1)))
      errors.push_back("'" + shown + "': the value must be " +
                       describe_type(opt->type_name()));
  }
  return errors;
}

} // namespace

namespace {

// The command line with `--config-file PATH` written as
// `--config-file=PATH`, as CAF takes it.
std::vector<std::string> join_config_file(int argc, char** argv,
                                          std::vector<std::string>& errors) {
  std::vector<std::string> result;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && arg == "--config-file") {
      if (i + 1 < argc)
        arg += "=" + std::string{argv[++i]};
      else
        errors.push_back("--config-file needs the path of a file: "
                         "--config-file=PATH");
    }
    result.push_back(std::move(arg));
  }
  return result;
}

// The transfers in flight at once, all pollers together, must leave file
// descriptors for the rest (the history, the HTTP API's connections, CAF,
// the files read): past the limit libcurl could not open a socket and every
// poll then would fail as if its target were down. Instead, polls wait.
size_t fit_file_limit(size_t pollers, size_t max_in_flight, uint64_t limit,
                      std::vector<std::string>& warnings) {
  if (pollers == 0)
    return max_in_flight; // refused elsewhere
  auto reserve = std::min<uint64_t>(256, limit / 2);
  auto per_poller = std::max<uint64_t>(1, (limit - reserve) / pollers);
  if (max_in_flight <= per_poller)
    return max_in_flight;
  warnings.push_back(
    "the open file limit (" + std::to_string(limit) +
    ", ulimit -n) is lower "
    "than pollers x max-in-flight (" +
    std::to_string(pollers) + " x " + std::to_string(max_in_flight) +
    ") plus " + std::to_string(reserve) + " for the rest: at most " +
    std::to_string(per_poller) +
    " transfers per poller run at once, the other polls wait (their wait "
    "shows as lateness); raise the limit (LimitNOFILE= under systemd) to "
    "poll more at once");
  return static_cast<size_t>(per_poller);
}

uint64_t open_file_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<uint32_t>::max();
  return static_cast<uint64_t>(r.rlim_cur);
}

// Makes every relative path set in the config file relative to its folder;
// those from the command line stay relative to the working directory.
void resolve_paths(config& cfg) {
  auto resolve = [&](const std::string& key, std::string& value) {
    auto origin = cfg.origins.find(key);
    if (origin != cfg.origins.end())
      value = resolve_path(value, origin->second, cfg.file);
  };
  resolve("urlpoll.url-file", cfg.url_file);
  if (cfg.events != "stdout")
    resolve("urlpoll.events", cfg.events);
  resolve("urlpoll.ca-file", cfg.ca_file);
  resolve("urlpoll.headers-file", cfg.headers_file);
  resolve("urlpoll.http-token-file", cfg.http_token_file);
  resolve("urlpoll.history-password-file", cfg.history_password_file);
  // Under systemd (StateDirectory=), a relative history path is in the state
  // directory: /etc is read-only there, and state belongs in /var/lib.
  // Otherwise the history's default lives next to the config file, as if
  // set there.
  auto* state_dir = std::getenv("STATE_DIRECTORY");
  if (is_postgresql(cfg.history)) {
    // A server, not a path.
  } else if (state_dir != nullptr && *state_dir != '\0' &&
             !cfg.history.empty() && cfg.history.front() != '/') {
    std::string dir = state_dir;
    dir = dir.substr(0, dir.find(':')); // the first, when several
    cfg.history = dir + "/" + cfg.history;
  } else if (cfg.origins.count("urlpoll.history") == 0) {
    cfg.history = resolve_path(cfg.history, cfg.file + ":", cfg.file);
  } else {
    resolve("urlpoll.history", cfg.history);
  }
  resolve("openssl.certificate", cfg.openssl_certificate);
  resolve("openssl.key", cfg.openssl_key);
  resolve("openssl.cafile", cfg.openssl_cafile);
  resolve("openssl.passphrase-file", cfg.openssl_passphrase_file);
  // The paths inside entries of lists.
  for (auto [list_key, path_key] :
       {std::pair{"urlpoll.targets", "ca-file"},
        std::pair{"urlpoll.targets", "headers-file"},
        std::pair{"urlpoll.alerts", "url-file"}}) {
    auto entries = cfg.raw.find(list_key);
    if (entries == cfg.raw.end())
      continue;
    auto list = caf::get_if<caf::config_value::list>(&entries->second);
    for (size_t i = 0; list != nullptr && i < list->size(); ++i) {
      auto entry = caf::get_if<caf::config_value::dictionary>(&(*list)[i]);
      if (entry == nullptr)
        continue;
      auto value = entry->find(path_key);
      if (value == entry->end())
        continue;
      if (auto path = caf::get_if<std::string>(&value->second)) {
        auto key =
          std::string{list_key} + "[" + std::to_string(i + 1) + "]." + path_key;
        auto origin =
          cfg.origins.count(key) ? cfg.origins[key] : cfg.origins[list_key];
        value->second = resolve_path(*path, origin, cfg.file);
      }
    }
  }
}

} // namespace

std::vector<std::string> load_config(config& cfg, int argc, char** argv) {
  std::string path = "caf-application.conf";
  bool explicit_path = false;
  bool wants_help = false;
  const std::string config_flag = "--config-file=";
  std::vector<std::string> errors;
  auto joined = join_config_file(argc, argv, errors);
  if (!errors.empty())
    return errors;
  for (size_t i = 1; i < joined.size(); ++i) {
    auto& arg = joined[i];
    if (arg.compare(0, config_flag.size(), config_flag) == 0) {
      path = arg.substr(config_flag.size());
      explicit_path = true;
    } else if (arg == "--help" || arg == "-h" || arg == "-?") {
      wants_help = true;
    } else if (arg.compare(0, 2, "--") == 0) {
      cfg.origins[arg.substr(2, arg.find('=') - 2)] = "the command line";
    }
  }
  if (wants_help) {
    cfg.help_requested = true;
    return errors;
  }
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
    errors.push_back("cannot read config file '" + path +
                     "': it is a directory; give the path of a file");
    return errors;
  }
  {
    std::ifstream file{path};
    if (file) {
      cfg.file = path;
      auto from_cli = cfg.origins;
      errors =
        check_config_file(cfg.options(), path, file, cfg.origins, &cfg.raw);
      for (auto& [key, origin] : from_cli) {
        // A list set on the command line replaces the file's, lines and all.
        for (auto i = cfg.origins.lower_bound(key);
             i != cfg.origins.end() &&
             i->first.compare(0, key.size(), key) == 0;)
          i = i->first.size() > key.size() &&
                  (i->first[key.size()] == '[' || i->first[key.size()] == '.')
                ? cfg.origins.erase(i)
                : std::next(i);
        cfg.origins[key] = origin;
      }
      if (!errors.empty())
        return errors;
    } else if (explicit_path) {
      errors.push_back("cannot read config file '" + path + "': " +
                       std::strerror(errno) + " (given with --config-file)");
      return errors;
    }
  }
  errors = check_command_line(cfg.options(), joined, cfg.raw);
  if (!errors.empty())
    return errors;
  // CAF's parser knows `--switch` only: hand it `--switch=true` as that, and
  // apply `--switch=false` after it has read the file and the rest.
  std::vector<std::string> args;
  std::vector<const caf::config_option*> turned_off;
  std::vector<const caf::config_option*> emptied;
  for (size_t i = 0; i < joined.size(); ++i) {
    auto arg = joined[i];
    if (arg == "--check-config")
      continue; // main's, not CAF's
    auto eq = arg.find('=');
    const caf::config_option* opt = nullptr;
    if (arg.compare(0, config_flag.size(), config_flag) == 0)
      continue; // the last one, `path`, goes to CAF below
    if (i > 0 && arg.compare(0, 2, "--") == 0 && eq != std::string::npos) {
      if (is_raw_key(arg.substr(2, eq - 2)))
        continue; // read by check_command_line
      opt = cfg.options().qualified_name_lookup(arg.substr(2, eq - 2));
    }
    if (opt != nullptr && opt->is_flag()) {
      if (arg.substr(eq + 1) == "true")
        args.push_back(arg.substr(0, eq));
      else
        turned_off.push_back(opt);
      continue;
    }
    // CAF refuses an empty value; for a string it means "none"
    // (--urlpoll.http-listen= turns the HTTP API off).
    if (opt != nullptr && eq + 1 == arg.size() &&
        opt->type_name() == "string") {
      emptied.push_back(opt);
      continue;
    }
    args.push_back(std::move(arg));
  }
  std::vector<char*> new_argv;
  for (auto& arg : args)
    new_argv.push_back(arg.data());
  if (auto err = cfg.parse(static_cast<int>(new_argv.size()), new_argv.data(),
                           path.c_str()))
    errors.push_back(
      "cannot read the command line: " + redact_urls_in(to_string(err)) +
      " (urlpoll --help lists every option)");
  for (auto* opt : turned_off)
    opt->store(caf::config_value{false});
  for (auto* opt : emptied)
    opt->store(caf::config_value{std::string{}});
  // CAF's message may quote the token.
  hide_secret(errors, cfg.http_token);
  hide_secret(errors, cfg.openssl_passphrase);
  resolve_paths(cfg);
  return errors;
}

namespace {

// `text` indented by 6 and broken into lines of at most 78 columns.
std::string wrapped(const std::string& text) {
  std::string out;
  std::string line = "     ";
  std::istringstream words{text};
  for (std::string word; words >> word;) {
    if (line.size() + 1 + word.size() > 78 && line.size() > 6) {
      out += line + "\n";
      line = "     ";
    }
    line += " " + word;
  }
  return out + line;
}

} // namespace

std::string help_text(const config& cfg) {
  std::ostringstream out;
  out << "Usage: urlpoll [--config-file=PATH] [--urlpoll.OPTION=VALUE ...]\n"
         "\n"
         "Polls HTTP endpoints and reports their state. Reads "
         "caf-application.conf\nin the working directory, or the file given "
         "with --config-file=PATH.\nEach option below is a key under "
         "[urlpoll] in that file and a flag here.\n\n"
         "Options:\n";
  for (auto& opt : cfg.options()) {
    if (opt.category() != "urlpoll")
      continue;
    auto name = opt.long_name();
    auto description = opt.description();
    out << "  --urlpoll." << std::string{name.begin(), name.end()};
    // Defaults computed at start-up are described, not shown.
    if (name == "start-spread")
      out << "=DURATION";
    else if (auto value = opt.get())
      out << "=" << caf::to_string(*value);
    out << "\n"
        << wrapped(std::string{description.begin(), description.end()}) << "\n";
  }
  // The lists and dictionaries urlpoll reads itself (see is_raw_key).
  out << "  --urlpoll.targets=[{...}, ...]\n"
         "      targets with rules of their own, e.g. [{ name = \"api\", url "
         "= \"https://host/\",\n      interval = 30s }]; every key but url "
         "defaults to the option of the\n      same name (interval to "
         "poll-interval)\n"
         "  --urlpoll.alerts=[{...}, ...]\n"
         "      webhooks to alert, e.g. [{ name = \"ops\", type = "
         "\"webhook\", url = \"https://hooks.example/x\" }]\n";
  for (auto& key : rule_keys()) {
    if (key.kind != rule_kind::expect && key.kind != rule_kind::headers)
      continue;
    out << "  --urlpoll." << key.option << "=" << plain_text(key.default_text)
        << "\n      " << plain_text(key.help) << "\n";
  }
  auto list = [](const std::vector<std::string>& keys) {
    std::string result;
    for (auto& key : keys)
      result += (result.empty() ? "" : ", ") + key;
    return result;
  };
  out << "  --config-file=PATH, --config-file PATH\n      the config file "
         "(default: caf-application.conf)\n"
         "  --check-config\n      check the configuration (url-file "
         "included) as start-up does, print\n      \"configuration OK: N "
         "targets, M alerts\" or the errors, and exit: nothing\n      is "
         "polled, bound or written\n"
         "  --long-help\n      CAF's own options too (scheduler, logger, "
         "...), on stderr\n"
         "  -h, --help\n      this text\n"
         "  --version\n      urlpoll's version, the git commit it was built "
         "from, and the versions of\n      CAF and libcurl\n\n"
         "Keys of a targets entry: "
      << list(target_keys())
      << "\nKeys of an alerts entry: " << list(alert_keys())
      << "\n\nA relative path set in the config file is relative to its "
         "folder; one set on the\ncommand line, to the working directory.\n\n"
         "Exit codes:\n"
         "  0  fine (stopped by SIGINT/SIGTERM; with once, every target is "
         "up or degraded)\n"
         "  1  with once: some target is down or could not be polled\n"
         "  2  the configuration is wrong; nothing was polled\n"
         "  3  urlpoll cannot listen where told (listen or http-listen)\n";
  return out.str();
}

// -- from options to settings -------------------------------------------------

namespace {

std::string origin_of(const config& cfg, const std::string& key) {
  auto i = cfg.origins.find(key);
  return i != cfg.origins.end() ? i->second : "the default";
}

std::string trim(const std::string& x) {
  auto first = x.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  return x.substr(first, x.find_last_not_of(" \t\r") - first + 1);
}

} // namespace

namespace {

// Where a path inside `key`'s value was set ("urlpoll.targets[2].url"):
// its own line when the file had it there, else where `key` was set.
origin_fn nested_origin(const config& cfg, const std::string& key) {
  return [&cfg, key](const std::string& path) {
    if (auto o = cfg.origins.find(path); o != cfg.origins.end())
      return o->second;
    return origin_of(cfg, key);
  };
}

// Sets `out` to the choice named `value`, or says which names there are.
template <class Enum, class Fail>
void one_of(const char* key, const std::string& value,
            std::initializer_list<std::pair<const char*, Enum>> choices,
            Enum& out, Fail& fail) {
  std::string names;
  size_t k = 0;
  for (auto& [name, choice] : choices) {
    if (value == name) {
      out = choice;
      return;
    }
    names += k == 0 ? "" : k + 1 == choices.size() ? " or " : ", ";
    names += "\"" + std::string{name} + "\"";
    ++k;
  }
  fail(key, "must be " + names + ", not \"" + value + "\"");
}

// Reads the secret of `key` from the file at `path` into `secret`, when
// there is a path; `key` (when one is named) and its file are not both
// set. Returns whether it read one.
template <class Fail>
bool read_secret(const std::string& key, const char* file_key,
                 const std::string& path, std::string& secret, Fail& fail) {
  if (path.empty())
    return false;
  if (!key.empty() && !secret.empty()) {
    fail(file_key, "not together with " + key + ": give one of them");
    return false;
  }
  if (auto problem = read_secret_file(path, secret); !problem.empty()) {
    fail(file_key, problem);
    return false;
  }
  return true;
}

// Why `path` cannot be appended to, or empty when it can: checked without
// creating the file, so that checking a configuration never writes one.
std::string cannot_write(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec))
    return ::access(path.c_str(), W_OK) == 0 ? "" : std::strerror(errno);
  auto folder = fs::path{path}.parent_path();
  if (folder.empty())
    folder = ".";
  return ::access(folder.c_str(), W_OK) == 0 ? "" : std::strerror(errno);
}

bool readable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) &&
         ::access(path.c_str(), R_OK) == 0;
}

// The options of distributed runs: role, addresses, dispatch, TLS.
template <class Fail>
void check_roles(const config& cfg, settings& out, Fail& fail) {
  one_of("urlpoll.role", cfg.role,
         {{"standalone", node_role::standalone},
          {"worker", node_role::worker},
          {"coordinator", node_role::coordinator}},
         out.role, fail);
  if (auto address = parse_address(cfg.listen, true))
    out.listen = *address;
  else
    fail("urlpoll.listen",
         "'" + cfg.listen +
           "' is not host:port (e.g. "
           "\"127.0.0.1:9190\", or \"[::1]:9190\" for IPv6; port 0 picks a "
           "free one)");
  out.node_name = cfg.node_name;
  if (out.node_name.empty())
    fail("urlpoll.node-name", "must not be empty");
  for (size_t i = 0; i < cfg.workers.size(); ++i) {
    if (auto address = parse_address(cfg.workers[i], false))
      out.workers.push_back(*address);
    else
      fail("urlpoll.workers", "entry " + std::to_string(i + 1) + ", '" +
                                cfg.workers[i] +
                                "', is not host:port with a port of 1-65535 "
                                "(e.g. \"10.0.0.2:9190\")");
  }
  out.local_pollers = cfg.local_pollers;
  if (out.role == node_role::coordinator && cfg.workers.empty())
    fail("urlpoll.workers",
         "a coordinator needs at least one worker: list "
         "them as workers = [\"host:port\"], or run with role = "
         "\"standalone\"");
  one_of(
    "urlpoll.dispatch", cfg.dispatch,
    {{"spread", dispatch_mode::spread}, {"vantage", dispatch_mode::vantage}},
    out.dispatch, fail);
  auto nodes = cfg.workers.size() + (cfg.local_pollers ? 1 : 0);
  if (cfg.quorum > nodes && out.role == node_role::coordinator)
    fail("urlpoll.quorum",
         std::to_string(cfg.quorum) +
           " nodes can never "
           "agree: there are only " +
           std::to_string(nodes) + " (the workers" +
           (cfg.local_pollers ? " and the local pollers" : "") + ")");
  out.quorum = static_cast<uint32_t>(cfg.quorum);
  out.lost_node_expiry = cfg.lost_node_expiry;
  // TLS: all of certificate, key and CA file, or none.
  std::vector<std::pair<const char*, std::string>> tls{
    {"openssl.certificate", cfg.openssl_certificate},
    {"openssl.key", cfg.openssl_key},
    {"openssl.cafile", cfg.openssl_cafile}};
  auto given = std::count_if(tls.begin(), tls.end(),
                             [](auto& x) { return !x.second.empty(); });
  if (given > 0 && given < 3) {
    for (auto& [key, value] : tls)
      if (value.empty())
        fail(key, "missing: TLS between nodes needs openssl.certificate, "
                  "openssl.key and openssl.cafile together");
  }
  for (auto& [key, value] : tls)
    if (!value.empty() && !readable_file(value))
      fail(key, "cannot read '" + value + "': " +
                  (std::filesystem::exists(value)
                     ? std::string{"not a readable file"}
                     : std::string{"no such file"}));
  out.tls = given == 3;
  out.tls_passphrase = cfg.openssl_passphrase;
  read_secret("openssl.passphrase", "openssl.passphrase-file",
              cfg.openssl_passphrase_file, out.tls_passphrase, fail);
  // A new passphrase is a new key: both need a restart.
  out.tls_files = cfg.openssl_certificate + ", " + cfg.openssl_key + ", " +
                  cfg.openssl_cafile + ", " + cfg.openssl_passphrase_file;
  if (out.role == node_role::worker && !out.tls &&
      !is_loopback(out.listen.host))
    out.warnings.push_back(
      "warning: this worker listens on " + to_string(out.listen) +
      " without TLS: anyone who reaches it can use it to poll. Set "
      "openssl.certificate, openssl.key and openssl.cafile (README, "
      "\"Running on several machines\").");
}

// once is a check, not a second daemon: beside a daemon on the same file,
// or from cron on it, it alerts no one, appends no events and keeps no
// history (nor fights the daemon for its database). And one poll decides
// each target: the thresholds, retries and flapping that smooth a
// daemon's many polls are for the daemon.
void as_a_check(settings& out) {
  out.alerts.clear();
  out.events.clear();
  out.history.clear();
  for (auto& rules : out.state_rule_sets) {
    rules.failure_threshold = 1;
    rules.success_threshold = 1;
    rules.flap_threshold = 0;
  }
}

} // namespace

std::vector<std::string> make_settings(const config& cfg, settings& out) {
  std::vector<std::string> errors;
  auto fail = [&](const std::string& key, const std::string& what) {
    errors.push_back(key + " (set at " + origin_of(cfg, key) + "): " + what);
  };
  // The rules every target starts from: the [urlpoll] options, read by
  // the same read_rule as each `targets` entry's keys.
  auto defaults = std::make_shared<target_rules>();
  state_rules state;
  for (auto& key : rule_keys()) {
    if (key.option == nullptr)
      continue;
    auto qualified = "urlpoll." + std::string{key.option};
    std::optional<caf::config_value> value;
    if (is_raw_key(qualified)) {
      if (auto i = cfg.raw.find(qualified); i != cfg.raw.end())
        value = i->second;
    } else if (auto opt = cfg.options().qualified_name_lookup(qualified)) {
      if (auto current = opt->get())
        value = std::move(*current);
    }
    if (value)
      if (auto problem = read_rule(key, *value, *defaults, state);
          !problem.empty())
        fail(qualified, problem);
  }
  defaults->schedule.once = cfg.once;
  for (auto& [key, problem] : check_rules(*defaults))
    fail("urlpoll." + std::string{find_rule_key(key)->option}, problem);
  out.state_rule_sets.push_back(state);
  if (cfg.raw.count("urlpoll.headers") > 0 && !cfg.headers_file.empty())
    fail("urlpoll.headers-file", "not together with urlpoll.headers: give "
                                 "one of them");
  out.events = cfg.events;
  out.http_token = cfg.http_token;
  read_secret("urlpoll.http-token", "urlpoll.http-token-file",
              cfg.http_token_file, out.http_token, fail);
  if (!cfg.http_listen.empty()) {
    if (auto address = parse_address(cfg.http_listen, true))
      out.http_listen = *address;
    else
      fail("urlpoll.http-listen",
           "'" + cfg.http_listen +
             "' is not host:port (e.g. "
             "\"127.0.0.1:9180\"; empty turns the HTTP API off)");
  }
  if (auto i = cfg.raw.find("urlpoll.alerts"); i != cfg.raw.end()) {
    auto origin = nested_origin(cfg, "urlpoll.alerts");
    if (auto list = caf::get_if<caf::config_value::list>(&i->second))
      read_alerts(*list, "urlpoll.alerts", origin, out.alerts, errors);
    else
      fail("urlpoll.alerts", "must be a list of dictionaries such as "
                             "[{ name = \"ops\", type = \"webhook\", url = "
                             "\"https://hooks.example/x\" }]");
  }
  if (auto level = parse_log_level(cfg.log_level))
    out.log_threshold = *level;
  else
    fail("urlpoll.log-level", "'" + cfg.log_level +
                                "' is no level: use \"error\", \"warning\", "
                                "\"notice\" or \"info\"");
  // The targets with rules first, then the plain URLs. Each name once,
  // and whether a plain URL (nothing hidden: its own name) took it: a
  // plain URL given twice is taken once. One table, not two: at a million
  // URLs each insert is a cache miss or more.
  std::unordered_map<std::string, bool> names;
  std::unordered_set<std::string> seen_with_secrets;
  auto add = [&](target_spec spec, const std::string& where, std::string shown,
                 bool plain) {
    auto [at, added] = names.emplace(std::move(shown), plain);
    if (added) {
      out.targets.push_back(std::move(spec));
      return;
    }
    if (plain && at->second)
      return;
    errors.push_back(
      where + ": the name '" + at->first +
      "' is used by two targets: give each its own name" +
      (at->first.find("***") == std::string::npos
         ? ""
         : " (what tells their URLs apart shows as ***: a `targets` entry "
           "with a name each, or show-query = true where the query holds "
           "no secret)"));
  };
  if (auto i = cfg.raw.find("urlpoll.targets"); i != cfg.raw.end()) {
    auto origin = nested_origin(cfg, "urlpoll.targets");
    if (auto list = caf::get_if<caf::config_value::list>(&i->second)) {
      std::vector<target_spec> specs;
      read_targets(*list, "urlpoll.targets", *defaults, state, origin, specs,
                   out.state_rule_sets, errors);
      for (size_t k = 0; k < specs.size(); ++k) {
        auto shown = identity(specs[k]);
        add(std::move(specs[k]), origin("urlpoll.targets"), std::move(shown),
            false);
      }
    } else {
      fail("urlpoll.targets", "must be a list of dictionaries such as "
                              "[{ name = \"api\", url = \"https://host/\" }]");
    }
  }
  std::shared_ptr<const target_rules> plain = defaults;
  auto add_url = [&](const std::string& url) {
    target_spec spec{{}, url, plain, 0};
    auto shown = identity(spec);
    if (shown == url) {
      add(std::move(spec), "urlpoll.urls", std::move(shown), true);
      return;
    }
    // Two passwords (or query values) for one URL are two targets of one
    // name.
    if (seen_with_secrets.insert(url).second)
      add(std::move(spec), "urlpoll.urls", std::move(shown), false);
  };
  for (size_t i = 0; i < cfg.urls.size(); ++i) {
    if (auto problem = check_url(cfg.urls[i]))
      fail("urlpoll.urls", "entry " + std::to_string(i + 1) + ", '" +
                             redact(cfg.urls[i]) + "': " + *problem);
    else
      add_url(cfg.urls[i]);
  }
  if (!cfg.url_file.empty()) {
    auto& path = cfg.url_file;
    std::ifstream file{path};
    if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
      fail("urlpoll.url-file",
           "cannot read '" + path + "': it is a directory, not a file");
    } else if (!file) {
      fail("urlpoll.url-file",
           "cannot read '" + path + "': " + std::strerror(errno));
    } else {
      // All lines first: the sets that find duplicates grow once, not
      // seventeen times, at 100,000 URLs (a reload's cost is mostly this).
      std::vector<std::pair<int, std::string>> lines;
      std::string line;
      for (int number = 1; std::getline(file, line); ++number) {
        auto url = trim(line);
        if (!url.empty() && url.front() != '#')
          lines.emplace_back(number, std::move(url));
      }
      names.reserve(names.size() + lines.size());
      out.targets.reserve(out.targets.size() + lines.size());
      for (auto& [number, url] : lines) {
        if (auto problem = check_url(url))
          errors.push_back(path + ":" + std::to_string(number) + ": '" +
                           redact(url) + "': " + *problem);
        else
          add_url(url);
      }
    }
  }
  check_roles(cfg, out, fail);
  if (out.targets.empty() && errors.empty() && out.role != node_role::worker)
    errors.push_back(
      "no targets to monitor" +
      (cfg.file.empty()
         ? std::string{" (no config file was read: there is no "
                       "caf-application.conf in the working directory)"}
         : " in " + cfg.file) +
      ": list URLs under [urlpoll] in " +
      (cfg.file.empty() ? std::string{"a config file"} : cfg.file) +
      " as urls = [\"https://host/\"] or url-file = \"FILE\", or give "
      "--urlpoll.urls='[\"https://host/\"]'");
  if (cfg.pollers < 1 || cfg.pollers > 1024)
    fail("urlpoll.pollers",
         "must be between 1 and 1024, not " + std::to_string(cfg.pollers));
  if (cfg.max_in_flight < 1 || cfg.max_in_flight > 100'000)
    fail("urlpoll.max-in-flight", "must be between 1 and 100000, not " +
                                    std::to_string(cfg.max_in_flight));
  auto positive = [&](const char* key, caf::timespan x) {
    if (x.count() <= 0)
      fail(key, "must be longer than 0s, not " + format_duration(x));
  };
  positive("urlpoll.status-interval", cfg.status_interval);
  positive("urlpoll.timer-resolution", cfg.timer_resolution);
  positive("urlpoll.lost-node-expiry", cfg.lost_node_expiry);
  if (cfg.timer_resolution > 1s)
    fail("urlpoll.timer-resolution",
         "must be at most 1s, not " + format_duration(cfg.timer_resolution));
  if (cfg.start_spread.count() >= 0)
    out.start_spread = cfg.start_spread;
  else
    // At most first_polls_per_second: a million targets' first polls
    // over 100 s (at most an interval), not asked for at 100,000 a second.
    out.start_spread = std::min<caf::timespan>(
      cfg.poll_interval,
      std::max<caf::timespan>(10s, caf::timespan{1s} *
                                     static_cast<int64_t>(out.targets.size()) /
                                     first_polls_per_second));
  one_of("urlpoll.status-format", cfg.status_format,
         {{"text", status_format::text}, {"json", status_format::json}},
         out.format, fail);
  out.pollers = cfg.pollers;
  out.max_in_flight = fit_file_limit(cfg.pollers, cfg.max_in_flight,
                                     open_file_limit(), out.warnings);
  out.timer_resolution = cfg.timer_resolution;
  out.status_interval = cfg.status_interval;
  if (cfg.status_max_lines > 100'000)
    fail("urlpoll.status-max-lines",
         "must be at most 100000, not " + std::to_string(cfg.status_max_lines));
  out.status_max_lines = cfg.status_max_lines;
  out.metrics_per_target = cfg.metrics_per_target;
  out.once = cfg.once;
  out.watch_config = cfg.watch_config;
  out.history = cfg.history;
  if (!cfg.history_password_file.empty()) {
    std::string password;
    if (!is_postgresql(cfg.history))
      fail("urlpoll.history-password-file",
           "only a PostgreSQL history (history = \"postgresql://...\") has "
           "a password");
    else if (read_secret("", "urlpoll.history-password-file",
                         cfg.history_password_file, password, fail) &&
             !out.history.empty())
      if (auto problem = add_history_password(out.history, password))
        fail("urlpoll.history-password-file", *problem);
  }
  if (out.once)
    as_a_check(out);
  // Checked only where it is written: a cron job of another user runs once
  // on the file of a daemon whose events file it could not write.
  if (!out.events.empty() && out.events != "stdout") {
    std::error_code ec;
    if (std::filesystem::is_directory(out.events, ec))
      fail("urlpoll.events", "'" + out.events +
                               "' is a directory: give a "
                               "file path, or \"stdout\"");
    else if (auto problem = cannot_write(out.events); !problem.empty())
      fail("urlpoll.events", "cannot write '" + out.events + "': " + problem +
                               " (give a file path urlpoll may write, or "
                               "\"stdout\")");
  }
  if (!out.history.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(out.history, ec))
      fail("urlpoll.history", "'" + out.history +
                                "' is a directory: give a file path (e.g. \"" +
                                out.history +
                                "/urlpoll-history.db\"), or "
                                "\"\" for no history");
  }
  if (cfg.history_flush < 1s || cfg.history_flush > 1h)
    fail("urlpoll.history-flush", "must be between 1s and 1h, not " +
                                    format_duration(cfg.history_flush));
  if (cfg.history_hourly < 1h)
    fail("urlpoll.history-hourly",
         "must be at least 1h, not " + format_duration(cfg.history_hourly));
  if (cfg.history_retention < cfg.history_hourly)
    fail("urlpoll.history-retention", "must be at least history-hourly (" +
                                        format_duration(cfg.history_hourly) +
                                        "), not " +
                                        format_duration(cfg.history_retention));
  out.history_keeping.flush = cfg.history_flush;
  out.history_keeping.hourly = cfg.history_hourly;
  out.history_keeping.retention = cfg.history_retention;
  if (cfg.ha_takeover < 2s || cfg.ha_takeover > 10min)
    fail("urlpoll.ha-takeover", "must be between 2s and 10min, not " +
                                  format_duration(cfg.ha_takeover));
  out.history_keeping.takeover = cfg.ha_takeover;
  out.history_keeping.node = out.node_name;
  out.config_file = cfg.file;
  out.url_file = cfg.url_file;
  hide_secret(errors, out.http_token);
  return errors;
}

loaded_settings load_settings(const std::vector<std::string>& args) {
  loaded_settings result;
  config cfg;
  std::vector<std::string> storage{"urlpoll"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : storage)
    argv.push_back(arg.data());
  result.errors = load_config(cfg, static_cast<int>(argv.size()), argv.data());
  if (result.errors.empty())
    result.errors = make_settings(cfg, result.values);
  return result;
}

} // namespace urlpoll
