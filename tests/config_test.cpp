#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <libpq-fe.h>
#include <sstream>

#include <doctest/doctest.h>

#include "app/config.hpp"
#include "app/targets.hpp"
#include "support/env_var.hpp"
#include "support/temp_dir.hpp"

using namespace urlpoll;
using namespace urlpoll::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> check(const std::string& text) {
  config cfg;
  std::istringstream in{text};
  std::map<std::string, std::string> origins;
  return check_config_file(cfg.options(), "test.conf", in, origins);
}

// One error expected: returns it.
std::string only_error(const std::string& text) {
  auto errors = check(text);
  REQUIRE(errors.size() == 1);
  return errors[0];
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> urls_of(const settings& x) {
  std::vector<std::string> result;
  for (auto& t : x.targets)
    result.push_back(t.url);
  return result;
}

/// Runs load_config and make_settings as main() does, with an empty config
/// file unless the test names one: the working directory does not matter.
struct startup {
  temp_dir dir;
  config cfg;
  settings out;
  std::vector<std::string> errors;

  explicit startup(std::vector<std::string> args) {
    auto names_file = std::any_of(args.begin(), args.end(), [](auto& arg) {
      return arg.rfind("--config-file", 0) == 0;
    });
    if (!names_file)
      args.insert(args.begin(),
                  "--config-file=" + dir.write("empty.conf", "[urlpoll]\n"));
    args.insert(args.begin(), "urlpoll");
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    errors = load_config(cfg, static_cast<int>(argv.size()), argv.data());
    if (errors.empty())
      errors = make_settings(cfg, out);
  }

  std::string all_errors() const {
    std::string result;
    for (auto& e : errors)
      result += e + "\n";
    return result;
  }
};

} // namespace

TEST_CASE("a well-formed config file passes the check") {
  CHECK(check("; comment\n[urlpoll]\nurls = [\"http://a/\",\n"
              "  \"http://b/\"]\npollers = 4\npoll-interval = 30s\n"
              "once = true\nstatus-format = \"json\"\n"
              "[scheduler]\nmax-threads = 2\n")
          .empty());
}

TEST_CASE("an unknown key is refused with file, line and the valid keys") {
  auto e = only_error("[urlpoll]\nurls = [\"http://a/\"]\npoler = 3\n");
  CHECK(contains(e, "test.conf:3"));
  CHECK(contains(e, "unknown key 'poler' in [urlpoll]"));
  CHECK(contains(e, "pollers"));
}

TEST_CASE("a key in an unknown section is refused") {
  auto e = only_error("[urlpol]\nurls = [\"http://a/\"]\n");
  CHECK(contains(e, "test.conf:2"));
  CHECK(contains(e, "there is no section [urlpol]"));
}

TEST_CASE("a malformed value is refused with file, line and key") {
  auto e = only_error("[urlpoll]\npollers = abc\n");
  CHECK(contains(e, "test.conf:2:"));
  CHECK(contains(e, "unexpected character 'a'"));
  CHECK(contains(e, "urlpoll.pollers"));
}

TEST_CASE("an unterminated list is refused, naming where it opened") {
  auto e = only_error("[urlpoll]\nstatus-format = \"text\"\n"
                      "urls = [\"http://a/\",\n\"http://b/\"\n");
  CHECK(contains(e, "test.conf:"));
  CHECK(contains(e, "list opened with '[' on line 3"));
  CHECK(contains(e, "urlpoll.urls"));
  CHECK(contains(e, "never closed"));
  auto nested = only_error("[urlpoll]\nurls = [{url=\"x\"\n");
  CHECK(contains(nested, "dictionary opened with '{' on line 2"));
}

TEST_CASE("a value of the wrong type is refused with file, line and key") {
  auto e = only_error("[urlpoll]\n\npollers = \"eight\"\n");
  CHECK(contains(e, "test.conf:3"));
  CHECK(contains(e, "'urlpoll.pollers' must be a whole number"));
  auto d = only_error("[urlpoll]\ntimeout = \"soon\"\n");
  CHECK(contains(d, "a duration such as 250ms, 10s or 2min"));
  auto l = only_error("[urlpoll]\nurls = \"http://a/\"\n");
  CHECK(contains(l, "must be a list"));
}

TEST_CASE("a key set twice is refused") {
  auto e = only_error("[urlpoll]\npollers = 2\npollers = 3\n");
  CHECK(contains(e, "test.conf:3"));
  CHECK(contains(e, "set twice (first on line 2)"));
}

TEST_CASE("a config file given with --config-file must exist") {
  startup s{{"--config-file=/nonexistent/urlpoll.conf"}};
  REQUIRE(s.errors.size() == 1);
  CHECK(contains(s.errors[0], "/nonexistent/urlpoll.conf"));
  CHECK(contains(s.errors[0], "No such file"));
}

TEST_CASE("an unknown command-line option is refused") {
  startup s{{"--urlpoll.polers=3", "--urlpoll.urls=[\"http://a/\"]"}};
  REQUIRE(s.errors.size() == 1);
  CHECK_MESSAGE(contains(s.errors[0], "unknown option '--urlpoll.polers'"),
                s.errors[0]);
}

TEST_CASE("a malformed command-line value is refused, naming the option") {
  startup s{{"--urlpoll.pollers=abc", "--urlpoll.poll-interval=10",
             "--urlpoll.urls=[\"http://a/\"", "--urlpoll.timeout",
             "--urlpoll.once=no"}};
  REQUIRE(s.errors.size() == 5);
  CHECK(contains(s.errors[0], "'--urlpoll.pollers=abc': the value must be a "
                              "whole number"));
  CHECK(contains(s.errors[1], "must be a duration"));
  CHECK(contains(s.errors[2], "must be a list"));
  CHECK(contains(s.errors[3], "needs a value"));
  CHECK(contains(s.errors[4], "--urlpoll.once is a switch"));
}

TEST_CASE("a switch takes =true and =false on the command line, over the "
          "file") {
  temp_dir dir;
  auto file = dir.write("on.conf", "[urlpoll]\nurls = [\"http://a/\"]\n"
                                   "local-pollers = true\nonce = false\n");
  startup s{{"--config-file=" + file, "--urlpoll.local-pollers=false",
             "--urlpoll.once=true"}};
  CHECK(s.all_errors() == "");
  CHECK_FALSE(s.cfg.local_pollers);
  CHECK(s.cfg.once);
  startup t{{"--config-file=" + file}};
  CHECK(t.cfg.local_pollers);
}

TEST_CASE("command-line options override the file, and URLs are checked and "
          "deduplicated in order") {
  temp_dir dir;
  dir.write("urls.txt", "# targets\n\nhttp://b/\n  http://c/  \nhttp://a/\n");
  auto conf = dir.write("u.conf", "[urlpoll]\nurls = [\"http://a/\", "
                                  "\"http://b/\", \"http://a/\"]\n"
                                  "url-file = \"urls.txt\"\npollers = 3\n"
                                  "poll-interval = 30s\n");
  startup s{{"--config-file=" + conf, "--urlpoll.pollers=5"}};
  REQUIRE_MESSAGE(s.errors.empty(), s.all_errors());
  CHECK(urls_of(s.out) ==
        std::vector<std::string>{"http://a/", "http://b/", "http://c/"});
  CHECK(s.out.pollers == 5);
  auto& schedule = s.out.targets.at(0).rules->schedule;
  CHECK(schedule.interval == 30s);
  CHECK(schedule.error_backoff == 10s);
  CHECK(schedule.max_backoff == 10min);
  CHECK(schedule.timeout == 10s);
  CHECK(s.out.status_interval == 10s);
  CHECK(s.out.format == status_format::text);
  CHECK_FALSE(s.out.once);
}

TEST_CASE("a URL that cannot be polled is refused with where it was set") {
  temp_dir dir;
  auto conf = dir.write("u.conf", "[urlpoll]\n\nurls = [\"http://a/\", "
                                  "\"ftp://u:pw@b/\"]\n");
  startup s{{"--config-file=" + conf}};
  REQUIRE(s.errors.size() == 1);
  CHECK(contains(s.errors[0], "urlpoll.urls (set at " + conf + ":3)"));
  CHECK(contains(s.errors[0], "entry 2"));
  CHECK(contains(s.errors[0], "unsupported scheme 'ftp'"));
  CHECK_MESSAGE(!contains(s.errors[0], "pw"), "no password in errors");
}

TEST_CASE("a bad URL in url-file is refused with its line number") {
  temp_dir dir;
  auto file = dir.write("urls.txt", "http://ok/\n# fine\nhttp:///nohost\n"
                                    "example.org\n");
  startup s{{"--urlpoll.url-file=" + file}};
  REQUIRE(s.errors.size() == 2);
  CHECK(contains(s.errors[0], file + ":3: 'http:///nohost': the URL has no "
                                     "host"));
  CHECK(contains(s.errors[1], file + ":4: 'example.org': the URL has no "
                                     "scheme"));
}

TEST_CASE("an unreadable url-file is refused") {
  startup s{{"--urlpoll.url-file=/nonexistent/urls.txt"}};
  REQUIRE(s.errors.size() == 1);
  CHECK(contains(s.errors[0], "urlpoll.url-file (set at the command line)"));
  CHECK(contains(s.errors[0], "cannot read '/nonexistent/urls.txt'"));
}

TEST_CASE("no targets at all is refused") {
  startup s{{}};
  REQUIRE(s.errors.size() == 1);
  CHECK(contains(s.errors[0], "no targets to monitor"));
}

TEST_CASE("impossible values are refused") {
  startup s{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.pollers=0",
             "--urlpoll.poll-interval=0s", "--urlpoll.timeout=0s",
             "--urlpoll.status-format=xml", "--urlpoll.error-backoff=-1s"}};
  auto all = s.all_errors();
  CHECK(contains(all, "urlpoll.pollers"));
  CHECK(contains(all, "urlpoll.poll-interval"));
  CHECK(contains(all, "urlpoll.timeout"));
  CHECK(contains(all, "urlpoll.status-format"));
  CHECK(contains(all, "urlpoll.error-backoff"));
  CHECK(s.errors.size() == 5);
}

TEST_CASE("a directory given as a config file or url-file is refused") {
  temp_dir dir;
  startup as_config{{"--config-file=" + dir.path}};
  REQUIRE(as_config.errors.size() == 1);
  CHECK(contains(as_config.errors[0], "it is a directory"));
  startup as_url_file{{"--urlpoll.url-file=" + dir.path}};
  REQUIRE(as_url_file.errors.size() == 1);
  CHECK(contains(as_url_file.errors[0], "it is a directory"));
}

TEST_CASE("text that is no INI at all is refused with where it starts") {
  auto e = only_error("\x01\x02garbage\n");
  CHECK(contains(e, "test.conf:1:1"));
  CHECK(contains(e, "unexpected text"));
}

TEST_CASE("host:port addresses are read, IPv6 in brackets") {
  auto a = parse_address("10.0.0.2:9190", false);
  REQUIRE(a);
  CHECK(a->host == "10.0.0.2");
  CHECK(a->port == 9190);
  auto b = parse_address("[::1]:9191", false);
  REQUIRE(b);
  CHECK(b->host == "::1");
  CHECK(to_string(*b) == "[::1]:9191");
  CHECK(parse_address("127.0.0.1:0", true));
  CHECK_FALSE(parse_address("127.0.0.1:0", false));
  CHECK_FALSE(parse_address("127.0.0.1", false));
  CHECK_FALSE(parse_address("host:65536", false));
  CHECK_FALSE(parse_address("::1:9190", false));
  CHECK_FALSE(parse_address(":9190", false));
  CHECK_FALSE(parse_address("host:90x", false));
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("::1"));
  CHECK_FALSE(is_loopback("0.0.0.0"));
}

TEST_CASE("a worker needs no targets and listens on loopback by default") {
  startup s{{"--urlpoll.role=worker"}};
  CHECK(s.all_errors() == "");
  CHECK(s.out.role == node_role::worker);
  CHECK(s.out.listen.host == "127.0.0.1");
  CHECK(s.out.listen.port == default_worker_port);
  CHECK(s.out.warnings.empty());
  CHECK_FALSE(s.out.node_name.empty());
}

TEST_CASE("a worker listening beyond loopback without TLS is warned about") {
  startup s{{"--urlpoll.role=worker", "--urlpoll.listen=0.0.0.0:9190"}};
  CHECK(s.all_errors() == "");
  REQUIRE(s.out.warnings.size() == 1);
  CHECK(contains(s.out.warnings[0], "without TLS"));
}

TEST_CASE("distributed options are checked: role, workers, dispatch, quorum, "
          "TLS files") {
  startup s{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.role=leader",
             "--urlpoll.workers=[\"a:1\", \"nohost\"]",
             "--urlpoll.dispatch=all", "--urlpoll.quorum=5",
             "--openssl.certificate=/nonexistent.pem"}};
  auto all = s.all_errors();
  CHECK(contains(all, "urlpoll.role (set at the command line): must be "
                      "\"standalone\", \"worker\" or \"coordinator\", not "
                      "\"leader\""));
  CHECK(contains(all, "entry 2, 'nohost', is not host:port"));
  CHECK(contains(all, "urlpoll.dispatch"));
  CHECK(contains(all, "openssl.key (set at"));
  CHECK(contains(all, "openssl.cafile"));
  CHECK(contains(all, "cannot read '/nonexistent.pem': no such file"));
  startup c{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.role=coordinator"}};
  CHECK(contains(c.all_errors(), "a coordinator needs at least one worker"));
  startup q{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.role=coordinator",
             "--urlpoll.workers=[\"a:1\", \"b:2\"]", "--urlpoll.quorum=4"}};
  CHECK(contains(q.all_errors(), "4 nodes can never agree: there are only 3"));
}

TEST_CASE("targets: per-target rules with defaults from [urlpoll]") {
  temp_dir dir;
  auto file = dir.write("t.conf", R"([urlpoll]
poll-interval = 30s
failure-threshold = 2
headers = { X-Team = "ops" }
targets = [
  { name = "api", url = "https://api.example/health", method = "GET",
    interval = 10s, timeout = 2s, expect = [200, "300-302"],
    follow-redirects = true, max-redirects = 3,
    headers = { Authorization = "Bearer t0ken" }, insecure = true,
    fresh-connection = true, degraded-latency = 500ms,
    failure-threshold = 3, success-threshold = 2, retry-interval = 5s,
    body-match = "/ok|healthy/", max-body = 1024, cert-expiry-warn = 72h,
    flap-threshold = 4, flap-window = 5min },
  { url = "http://b.example/" },
]
urls = ["http://c.example/"]
)");
  startup s{{"--config-file=" + file}};
  REQUIRE(s.all_errors() == "");
  REQUIRE(s.out.targets.size() == 3);
  auto& api = s.out.targets[0];
  CHECK(api.name == "api");
  auto& check = api.rules->check;
  CHECK(check.method == http_method::get);
  CHECK(api.rules->schedule.interval == 10s);
  CHECK(api.rules->schedule.timeout == 2s);
  CHECK(api.rules->schedule.retry_interval == 5s);
  CHECK(api.rules->schedule.fresh_connection);
  REQUIRE(check.expect.size() == 2);
  CHECK(check.expect[1].from == 300);
  CHECK(check.expect[1].to == 302);
  CHECK(check.follow_redirects);
  CHECK(check.max_redirects == 3);
  CHECK(check.headers ==
        std::vector<std::string>{"Authorization: Bearer t0ken"});
  CHECK(check.insecure);
  CHECK(check.degraded_latency == 500ms);
  CHECK(check.body_match == "/ok|healthy/");
  CHECK(check.max_body == 1024);
  CHECK(check.cert_expiry_warn == 72h);
  auto& api_state = s.out.state_rule_sets[api.state_rules];
  CHECK(api_state.failure_threshold == 3);
  CHECK(api_state.success_threshold == 2);
  CHECK(api_state.flap_threshold == 4);
  CHECK(api_state.flap_window == 5min);
  // The second takes the defaults, headers included; the plain URL too.
  auto& b = s.out.targets[1];
  CHECK(b.name.empty());
  CHECK(b.rules->schedule.interval == 30s);
  CHECK(b.rules->check.method == http_method::head);
  CHECK(b.rules->check.headers == std::vector<std::string>{"X-Team: ops"});
  CHECK(s.out.state_rule_sets[b.state_rules].failure_threshold == 2);
  CHECK(s.out.targets[2].url == "http://c.example/");
  CHECK(urls_of(s.out) == std::vector<std::string>{"https://api.example/health",
                                                   "http://b.example/",
                                                   "http://c.example/"});
}

TEST_CASE("targets: every bad key is refused with the file, its line and "
          "the key") {
  temp_dir dir;
  auto file = dir.write("t.conf", R"([urlpoll]
targets = [
  { name = "api", url = "http://a/",
    interval = -5s,
    expect = [],
    colour = "red" },
  { name = "api", url = "http://b/", expect = ["500-400"] },
  { url = "http://c/", body-match = "ok", failure-threshold = "three" },
  { url = "ftp://d/" },
  { name = "e", url = "http://e/", method = "GET", body-match = "/(/" },
]
)");
  startup s{{"--config-file=" + file}};
  auto all = s.all_errors();
  CHECK(contains(all, file + ":4: urlpoll.targets[1].interval: must be "
                             "longer than 0s, not -5s"));
  CHECK(contains(all, file + ":5: urlpoll.targets[1].expect: must name at "
                             "least one status code"));
  CHECK(contains(all, file +
                        ":6: urlpoll.targets[1].colour: unknown key; a "
                        "target's keys are: name, url, show-query, method"));
  CHECK(contains(all, file + ":7: urlpoll.targets[2].expect: '\"500-400\"' "
                             "runs backwards"));
  CHECK(contains(all, file + ":8: urlpoll.targets[3].body-match: needs "
                             "method = \"GET\""));
  CHECK(contains(all, file + ":8: urlpoll.targets[3].failure-threshold: must "
                             "be a whole number"));
  CHECK(contains(all, file + ":9: urlpoll.targets[4].url: 'ftp://d/': "
                             "unsupported scheme"));
  CHECK(contains(all, "urlpoll.targets[5].body-match: /(/ is not a regular "
                      "expression"));
  CHECK_MESSAGE(s.errors.size() == 8, all);
}

TEST_CASE("targets: two targets with one name are refused") {
  startup s{{"--urlpoll.targets=[{name=\"x\", url=\"http://a/\"}, "
             "{name=\"x\", url=\"http://b/\"}]"}};
  CHECK(contains(s.all_errors(), "the name 'x' is used by two targets"));
}

TEST_CASE("targets and the default rules can be given on the command line") {
  startup s{{"--urlpoll.targets=[{url=\"http://a/\", interval=5s}]",
             "--urlpoll.expect=[204]", "--urlpoll.method=GET",
             "--urlpoll.degraded-latency=1s", "--urlpoll.events=stdout"}};
  REQUIRE(s.all_errors() == "");
  REQUIRE(s.out.targets.size() == 1);
  CHECK(s.out.targets[0].rules->schedule.interval == 5s);
  CHECK(s.out.targets[0].rules->check.method == http_method::get);
  CHECK(s.out.targets[0].rules->check.expect.size() == 1);
  CHECK(s.out.targets[0].rules->check.degraded_latency == 1s);
  CHECK(s.out.events == "stdout");
  startup bad{{"--urlpoll.targets=[{url=\"http://a/\""}};
  CHECK(contains(bad.all_errors(), "'--urlpoll.targets' needs a value such "
                                   "as"));
}

TEST_CASE("an events file that cannot be written is refused") {
  startup s{{"--urlpoll.urls=[\"http://a/\"]",
             "--urlpoll.events=/nonexistent-dir/events.jsonl"}};
  CHECK(contains(s.all_errors(), "urlpoll.events (set at the command line): "
                                 "cannot write '/nonexistent-dir/events.jsonl'"
                                 ": No such file or directory"));
}

TEST_CASE("the README's example of per-target rules is valid and uses every "
          "key") {
  std::ifstream readme{URLPOLL_SOURCE_DIR "/README.md"};
  std::string text{std::istreambuf_iterator<char>{readme},
                   std::istreambuf_iterator<char>{}};
  auto section = text.find("### Per-target rules");
  REQUIRE(section != std::string::npos);
  auto begin = text.find("```ini\n", section);
  REQUIRE(begin != std::string::npos);
  begin += 7;
  auto example = text.substr(begin, text.find("```", begin) - begin);
  temp_dir dir;
  // The example names a CA file of its own: give it one that exists.
  auto ca = dir.write("ca.pem", "");
  auto at = example.find("/etc/ssl/internal-ca.pem");
  REQUIRE(at != std::string::npos);
  example.replace(at, std::string{"/etc/ssl/internal-ca.pem"}.size(), ca);
  auto headers = dir.write("shop-headers", "X-Shop: 1\n");
  at = example.find("/etc/urlpoll/shop-headers");
  REQUIRE(at != std::string::npos);
  example.replace(at, std::string{"/etc/urlpoll/shop-headers"}.size(), headers);
  auto file = dir.write("example.conf", example);
  startup s{{"--config-file=" + file}};
  CHECK(s.all_errors() == "");
  // headers and headers-file go in two entries: one target takes one.
  for (auto& key : target_keys())
    CHECK_MESSAGE(s.cfg.origins.count("urlpoll.targets[1]." + key) +
                      s.cfg.origins.count("urlpoll.targets[2]." + key) >=
                    1,
                  "the example does not use " << key);
}

TEST_CASE("the README's alerts example is valid") {
  std::ifstream readme{URLPOLL_SOURCE_DIR "/README.md"};
  std::string text{std::istreambuf_iterator<char>{readme},
                   std::istreambuf_iterator<char>{}};
  auto begin = text.find("```ini\n", text.find("### Alerts"));
  REQUIRE(begin != std::string::npos);
  begin += 7;
  temp_dir dir;
  auto file = dir.write("alerts.conf",
                        text.substr(begin, text.find("```", begin) - begin) +
                          "urls = [\"http://a/\"]\n");
  startup s{{"--config-file=" + file}};
  CHECK(s.all_errors() == "");
  REQUIRE(s.out.alerts.size() == 2);
  CHECK(s.out.alerts[0].name == "ops");
  CHECK(s.out.alerts[0].repeat_interval == 1h);
  CHECK(s.out.alerts[1].slack);
  CHECK(s.out.alerts[1].on.size() == 2);
}

TEST_CASE("a bad alert is refused with file, line and key") {
  temp_dir dir;
  auto file = dir.write("a.conf", "[urlpoll]\nurls = [\"http://a/\"]\n"
                                  "alerts = [\n  { name = \"x\", type = "
                                  "\"email\",\n    url = \"http://h/\", "
                                  "on = [\"sideways\"] },\n]\n");
  startup s{{"--config-file=" + file}};
  auto all = s.all_errors();
  CHECK(contains(all, file + ":4: urlpoll.alerts[1].type: must be "
                             "\"webhook\""));
  CHECK(contains(all, file + ":5: urlpoll.alerts[1].on: must list some of"));
}

TEST_CASE("a word on the command line that is no option is refused, naming "
          "it, and the options after it still count") {
  startup s{{"--urlpoll.urls=[\"http://a/\"]", "stray", "--urlpoll.once"}};
  REQUIRE(s.errors.size() == 1);
  CHECK_MESSAGE(contains(s.errors[0], "'stray' on the command line is not an "
                                      "option"),
                s.errors[0]);
  startup spaced{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.pollers", "4"}};
  CHECK(contains(spaced.all_errors(), "write --urlpoll.pollers=4"));
}

TEST_CASE("--config-file takes its path as the next argument too") {
  temp_dir dir;
  auto file = dir.write("cron.conf", "[urlpoll]\nurls = [\"http://a/\"]\n");
  startup s{{"--config-file", file, "--urlpoll.once"}};
  REQUIRE_MESSAGE(s.errors.empty(), s.all_errors());
  CHECK(s.cfg.file == file);
  CHECK(s.out.once);
  startup alone{{"--urlpoll.urls=[\"http://a/\"]", "--config-file"}};
  CHECK(contains(alone.all_errors(), "--config-file needs the path of a file"));
}

TEST_CASE("a duration too large for urlpoll is refused in words, on the "
          "command line and in the file") {
  startup cli{
    {"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.poll-interval=100000000h"}};
  REQUIRE(cli.errors.size() == 1);
  CHECK_MESSAGE(contains(cli.errors[0], "'--urlpoll.poll-interval' on the "
                                        "command line: the duration "
                                        "100000000h is too large"),
                cli.errors[0]);
  auto e =
    only_error("[urlpoll]\nurls = [\"http://a/100000000h\"] ; 9999999999999s\n"
               "targets = [{ url = \"http://b/\",\n"
               "  interval = 100000000h }]\n");
  CHECK_MESSAGE(contains(e, "test.conf:4: the duration 100000000h is too "
                            "large"),
                e);
  CHECK(check("[urlpoll]\npoll-interval = 2562047h\n").empty());
  startup nested{{"--urlpoll.targets=[{url=\"http://a/\", "
                  "timeout=9999999999999s}]"}};
  CHECK(contains(nested.all_errors(), "9999999999999s is too large"));
}

TEST_CASE("a duration too large is refused in every form of number CAF "
          "reads: negative, hex, binary, octal") {
  // Found by tests/fuzz/config (crash-negative-duration): these passed the
  // check, and CAF's int64 multiplication overflowed (undefined behaviour;
  // in practice a wrapped duration, or INT64_MIN, which format_duration
  // negates).
  for (auto duration :
       {"-100000000h", "0x7fffffffffh", "-0x8000000000000000ns",
        "0b1111111111111111111111111111111111111111h", "+100000000h",
        "07777777777777777h", "-9223372036854775808ns"}) {
    auto e = only_error(std::string{"[urlpoll]\nurls = [\"http://a/\"]\n"
                                    "poll-interval = "} +
                        duration + "\n");
    CHECK_MESSAGE(contains(e, std::string{"test.conf:3: the duration "} +
                                duration + " is too large"),
                  e);
    startup cli{{"--urlpoll.urls=[\"http://a/\"]",
                 std::string{"--urlpoll.timeout="} + duration}};
    CHECK_MESSAGE(contains(cli.all_errors(), "is too large"), cli.all_errors());
  }
  // CAF multiplies as soon as it has read the unit: the 't' is an error
  // only after the overflow.
  CHECK(contains(only_error("[urlpoll]\npoll-interval = -100000000ht\n"),
                 "test.conf:2: the duration -100000000h is too large"));
  // Numbers that fit, and those in comments, stay CAF's.
  CHECK(check("[urlpoll]\npoll-interval = -2562047h\ntimeout = 0x10s\n"
              "flap-window = 0b11min\nerror-backoff = 010s\n")
          .empty());
  CHECK(check("[urlpoll]\nurls = [\"http://a/\"] ; not -100000000h\n").empty());
}

TEST_CASE("lists nested too deep and a /regex/ too long are refused, not "
          "a crash") {
  // Found probing past the fuzz targets' 4 KiB inputs with their build
  // (crash-deep-list, crash-long-regex): CAF's parser and std::regex recurse
  // per level and per character, and overflowed the stack at 50,000 '[' or
  // 100,000 characters of body-match: urlpoll --check-config crashed.
  auto e = only_error("[urlpoll]\nurls = [\"http://a/\"]\n; [[[[ in a comment\n"
                      "targets = " +
                      std::string(50'000, '[') + "\n");
  CHECK_MESSAGE(contains(e, "test.conf:4: lists and dictionaries nested more "
                            "than 32 deep"),
                e);
  CHECK(check("[urlpoll]\ntargets = [{ url = \"http://a/[[[[[[[[[[[[[[[[[[[[["
              "[[[[[[[[[[[[[[[\", headers = { A = \"b\" } }]\n")
          .empty());
  startup cli{{"--urlpoll.urls=" + std::string(50'000, '[')}};
  CHECK_MESSAGE(contains(cli.all_errors(), "'--urlpoll.urls' on the command "
                                           "line: lists and dictionaries "
                                           "nested more than 32 deep"),
                cli.all_errors());
  startup regex{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.method=GET",
                 "--urlpoll.body-match=/" + std::string(100'000, 'a') + "/"}};
  CHECK_MESSAGE(contains(regex.all_errors(),
                         "a /regex/ of 100000 characters is too long: at most "
                         "1000"),
                regex.all_errors());
  startup fits{{"--urlpoll.urls=[\"http://a/\"]", "--urlpoll.method=GET",
                "--urlpoll.body-match=/" + std::string(500, '(') +
                  std::string(500, ')') + "/"}};
  CHECK_MESSAGE(fits.errors.empty(), fits.all_errors());
}

TEST_CASE("a relative path set in the config file is relative to its folder, "
          "one set on the command line to the working directory") {
  temp_dir dir;
  std::filesystem::create_directory(dir.path + "/etc");
  dir.write("etc/urls.txt", "http://a/\n");
  dir.write("etc/ca.pem", "");
  auto file =
    dir.write("etc/u.conf", "[urlpoll]\nurl-file = \"urls.txt\"\n"
                            "events = \"events.jsonl\"\nca-file = \"ca.pem\"\n"
                            "targets = [{ url = \"http://b/\", ca-file = "
                            "\"ca.pem\" }]\n");
  startup s{{"--config-file=" + file}};
  REQUIRE_MESSAGE(s.errors.empty(), s.all_errors());
  CHECK(s.out.url_file == dir.path + "/etc/urls.txt");
  auto tls =
    dir.write("etc/tls.conf", "[urlpoll]\nurls = [\"http://a/\"]\n"
                              "[openssl]\ncertificate = \"ca.pem\"\n"
                              "key = \"ca.pem\"\ncafile = \"ca.pem\"\n");
  startup with_tls{{"--config-file=" + tls}};
  REQUIRE_MESSAGE(with_tls.errors.empty(), with_tls.all_errors());
  CHECK(with_tls.cfg.openssl_certificate == dir.path + "/etc/ca.pem");
  CHECK(with_tls.cfg.openssl_cafile == dir.path + "/etc/ca.pem");
  CHECK(s.out.events == dir.path + "/etc/events.jsonl");
  CHECK(s.out.targets.at(0).rules->check.ca_file == dir.path + "/etc/ca.pem");
  CHECK(s.out.targets.at(1).rules->check.ca_file == dir.path + "/etc/ca.pem");
  startup cli{{"--config-file=" + file, "--urlpoll.events=here.jsonl",
               "--urlpoll.targets=[{url=\"http://b/\", ca-file=\"" + dir.path +
                 "/etc/ca.pem\"}]"}};
  REQUIRE_MESSAGE(cli.errors.empty(), cli.all_errors());
  CHECK(cli.out.events == "here.jsonl");
  startup missing{{"--config-file=" + file, "--urlpoll.ca-file=ca.pem"}};
  CHECK_MESSAGE(contains(missing.all_errors(), "cannot read 'ca.pem'"),
                "relative to the working directory: " << missing.all_errors());
}

TEST_CASE("no error prints a secret: the http-token, header values or a "
          "password in a URL") {
  temp_dir dir;
  auto token = dir.write("token.conf", "[urlpoll]\nurls = [\"http://a/\"]\n"
                                       "http-token = 123456789\n");
  startup file_token{{"--config-file=" + token}};
  CHECK_FALSE(file_token.errors.empty());
  CHECK_FALSE(contains(file_token.all_errors(), "123456789"));
  for (auto arg : {"--urlpoll.http-token=\"s3cr3t-t0ken",
                   "--urlpoll.http-token=[\"s3cr3t-t0ken\"]"}) {
    startup cli{{"--urlpoll.urls=[\"http://a/\"]", arg, "stray"}};
    CHECK_FALSE(cli.errors.empty());
    CHECK_MESSAGE(!contains(cli.all_errors(), "s3cr3t-t0ken"),
                  cli.all_errors());
  }
  startup url{{"--urlpoll.urls=[1, \"http://u:pa55word@a/\"]"}};
  CHECK_FALSE(url.errors.empty());
  CHECK_MESSAGE(!contains(url.all_errors(), "pa55word"), url.all_errors());
  startup entry{{"--urlpoll.targets=[{url=[\"http://u:pa55word@a/\"], "
                 "headers={Authorization=\"Bearer h34der\", X=1}}]"}};
  CHECK_FALSE(entry.errors.empty());
  CHECK_MESSAGE(!contains(entry.all_errors(), "pa55word"), entry.all_errors());
  CHECK_MESSAGE(!contains(entry.all_errors(), "h34der"), entry.all_errors());
  auto type = only_error("[urlpoll]\nurls = \"http://u:pa55word@a/\"\n");
  CHECK_MESSAGE(!contains(type, "pa55word"), type);
}

TEST_CASE("every secret has a -file form, read without its trailing newline, "
          "relative to the config file") {
  temp_dir dir;
  std::filesystem::create_directory(dir.path + "/etc");
  dir.write("etc/token", "t0ken-from-file\n");
  dir.write("etc/headers", "# for the API\nX-Token: secret\n\n"
                           "Authorization: Bearer b34rer\r\n");
  dir.write("etc/own-headers", "X-Own: 1\n");
  dir.write("etc/hook", "http://hooks.example/T000/s3cret\n");
  dir.write("etc/pgpass", "p@ss word\n");
  dir.write("etc/passphrase", "k3y-phrase\n");
  auto file = dir.write(
    "etc/u.conf",
    "[urlpoll]\nurls = [\"http://a/\"]\nhttp-token-file = \"token\"\n"
    "headers-file = \"headers\"\n"
    "history = \"postgresql://urlpoll@db.example/urlpoll?sslmode=require\"\n"
    "history-password-file = \"pgpass\"\n"
    "targets = [{ url = \"http://b/\", headers-file = \"own-headers\" }]\n"
    "alerts = [{ name = \"ops\", url-file = \"hook\" }]\n"
    "[openssl]\npassphrase-file = \"passphrase\"\n");
  startup s{{"--config-file=" + file}};
  REQUIRE_MESSAGE(s.errors.empty(), s.all_errors());
  CHECK(s.out.http_token == "t0ken-from-file");
  REQUIRE(s.out.targets.size() == 2);
  CHECK(s.out.targets[0].rules->check.headers ==
        std::vector<std::string>{"X-Own: 1"});
  CHECK(s.out.targets[1].rules->check.headers ==
        std::vector<std::string>{"X-Token: secret",
                                 "Authorization: Bearer b34rer"});
  REQUIRE(s.out.alerts.size() == 1);
  CHECK(s.out.alerts[0].url == "http://hooks.example/T000/s3cret");
  CHECK(s.out.history == "postgresql://urlpoll@db.example/"
                         "urlpoll?sslmode=require&password=p%40ss%20word");
  // As libpq reads it.
  std::string password;
  if (auto* options = PQconninfoParse(s.out.history.c_str(), nullptr)) {
    for (auto* o = options; o->keyword != nullptr; ++o)
      if (o->val != nullptr && std::string{o->keyword} == "password")
        password = o->val;
    PQconninfoFree(options);
  }
  CHECK(password == "p@ss word");
  CHECK(s.out.tls_passphrase == "k3y-phrase");
}

TEST_CASE("a -file that cannot be read, or given with its key, is refused "
          "with the option, the path and why") {
  temp_dir dir;
  auto missing = dir.path + "/missing";
  auto empty = dir.write("empty", "\n");
  auto hook = dir.write("hook", "http://hooks.example/x\n");
  auto headers = dir.write("headers", "Authorization Bearer h34der\n");
  auto urls = std::string{"--urlpoll.urls=[\"http://a/\"]"};
  auto refused = [&](std::vector<std::string> args, const std::string& what) {
    args.push_back(urls);
    startup s{args};
    CHECK_MESSAGE(contains(s.all_errors(), what), s.all_errors());
    return s.all_errors();
  };
  refused({"--urlpoll.http-token-file=" + missing},
          "urlpoll.http-token-file (set at the command line): cannot read '" +
            missing + "': No such file or directory");
  refused({"--urlpoll.http-token-file=" + dir.path},
          "cannot read '" + dir.path + "': it is a directory");
  refused({"--urlpoll.http-token-file=" + empty}, "'" + empty + "' is empty");
  refused({"--urlpoll.http-token-file=" + hook, "--urlpoll.http-token=x"},
          "urlpoll.http-token-file (set at the command line): not together "
          "with urlpoll.http-token");
  refused({"--urlpoll.alerts=[{url-file=\"" + missing + "\"}]"},
          "urlpoll.alerts[1].url-file: cannot read '" + missing + "'");
  refused({"--urlpoll.alerts=[{url=\"http://h/\", url-file=\"" + hook + "\"}]"},
          "urlpoll.alerts[1].url-file: not together with url");
  refused({"--urlpoll.targets=[{url=\"http://b/\", headers-file=\"" + missing +
           "\"}]"},
          "urlpoll.targets[1].headers-file: cannot read '" + missing + "'");
  refused({"--urlpoll.targets=[{url=\"http://b/\", headers={X=\"1\"}, "
           "headers-file=\"" +
           hook + "\"}]"},
          "urlpoll.targets[1].headers-file: not together with headers");
  refused({"--urlpoll.headers={X=\"1\"}", "--urlpoll.headers-file=" + hook},
          "urlpoll.headers-file (set at the command line): not together");
  // A header line that is wrong may be the secret: it is never quoted.
  auto wrong = refused({"--urlpoll.headers-file=" + headers},
                       headers + ":1: write each header as Name: value");
  CHECK_FALSE(contains(wrong, "h34der"));
  refused({"--urlpoll.history-password-file=" + hook},
          "urlpoll.history-password-file (set at the command line): only a "
          "PostgreSQL history");
  refused({"--urlpoll.history=postgresql://u:pw@db/x",
           "--urlpoll.history-password-file=" + hook},
          "not together with a password in the history URI");
  refused({"--openssl.passphrase-file=" + missing},
          "openssl.passphrase-file (set at the command line): cannot read");
  refused({"--openssl.passphrase=x", "--openssl.passphrase-file=" + hook},
          "not together with openssl.passphrase");
}

TEST_CASE("a target without a name is named by its URL with query values "
          "hidden, unless show-query: two that differ only there are "
          "refused with what to do") {
  startup hidden{{"--urlpoll.urls=[\"http://a/x?k=1\", \"http://a/x?k=2\"]"}};
  CHECK(contains(hidden.all_errors(),
                 "the name 'http://a/x?k=***' is used by two targets: give "
                 "each its own name (what tells their URLs apart shows as "
                 "***"));
  startup shown{{"--urlpoll.urls=[\"http://a/x?k=1\", \"http://a/x?k=2\"]",
                 "--urlpoll.show-query"}};
  REQUIRE_MESSAGE(shown.errors.empty(), shown.all_errors());
  REQUIRE(shown.out.targets.size() == 2);
  CHECK(identity(shown.out.targets[1]) == "http://a/x?k=2");
  startup mixed{{"--urlpoll.targets=[{url=\"http://a/x?k=1\"}, "
                 "{url=\"http://a/x?k=1&s=1\", show-query=true}]",
                 "--urlpoll.urls=[\"http://a/x?k=1\", \"http://a/x?k=1\"]"}};
  auto all = mixed.all_errors();
  CHECK_MESSAGE(contains(all, "the name 'http://a/x?k=***' is used by two"),
                all);
  // A URL given twice in urls is one target, as a plain URL is.
  CHECK(std::count(all.begin(), all.end(), '\n') == 1);
  startup one{{"--urlpoll.targets=[{url=\"http://a/x?k=1\"}, "
               "{url=\"http://a/x?k=1&s=1\", show-query=true}]"}};
  REQUIRE_MESSAGE(one.errors.empty(), one.all_errors());
  CHECK(identity(one.out.targets[0]) == "http://a/x?k=***");
  CHECK(identity(one.out.targets[1]) == "http://a/x?k=1&s=1");
}

TEST_CASE("with no targets, the error names the config file read, or says "
          "none was") {
  temp_dir dir;
  auto file = dir.write("bad.conf", "[urlpoll]\n");
  startup s{{"--config-file=" + file}};
  REQUIRE(s.errors.size() == 1);
  CHECK(contains(s.errors[0], "no targets to monitor in " + file));
  CHECK_FALSE(contains(s.errors[0], "caf-application.conf"));
  auto none = load_settings({"--config-file", dir.path + "/none.conf"});
  CHECK(contains(none.errors.at(0), "none.conf"));
}

TEST_CASE("method is read in any case, at the top level and in a target") {
  startup s{{"--urlpoll.method=get",
             "--urlpoll.targets=[{url=\"http://a/\", method=\"head\"}, "
             "{url=\"http://b/\"}]"}};
  REQUIRE_MESSAGE(s.errors.empty(), s.all_errors());
  CHECK(s.out.targets[0].rules->check.method == http_method::head);
  CHECK(s.out.targets[1].rules->check.method == http_method::get);
  startup bad{{"--urlpoll.method=post",
               "--urlpoll.targets=[{url=\"http://a/\", method=\"post\"}]"}};
  REQUIRE(bad.errors.size() == 2);
  CHECK(contains(bad.errors[0], "must be \"HEAD\" or \"GET\", not \"post\""));
  CHECK(contains(bad.errors[1], "must be \"HEAD\" or \"GET\", not \"post\""));
}

namespace {

// The part of README.md between two markers; empty when one is missing.
std::string readme_between(const std::string& begin_mark,
                           const std::string& end_mark) {
  std::ifstream readme{URLPOLL_SOURCE_DIR "/README.md"};
  std::string text{std::istreambuf_iterator<char>{readme},
                   std::istreambuf_iterator<char>{}};
  auto begin = text.find(begin_mark);
  REQUIRE_MESSAGE(begin != std::string::npos, "README.md lacks " << begin_mark);
  begin += begin_mark.size();
  auto end = text.find(end_mark, begin);
  REQUIRE_MESSAGE(end != std::string::npos, "README.md lacks " << end_mark);
  return text.substr(begin, end - begin);
}

} // namespace

TEST_CASE("the README's table of per-target keys is the one urlpoll "
          "--help-markdown generates from the key table") {
  auto table =
    readme_between("<!-- options: generated by build/urlpoll --help-markdown "
                   "-->\n",
                   "<!-- end options -->");
  CHECK_MESSAGE(table == rule_keys_markdown(),
                "run build/urlpoll --help-markdown and paste its output "
                "between the markers in README.md");
}

TEST_CASE("a per-target key is read by the same code as an [urlpoll] "
          "default and in a targets entry: same checks, same words") {
  for (auto& key : rule_keys()) {
    CAPTURE(key.key);
    CHECK((key.option != nullptr || std::string{key.key} == "name" ||
           std::string{key.key} == "url"));
    CHECK(std::strlen(key.help) > 0);
  }
  startup s{{"--urlpoll.max-redirects=200", "--urlpoll.flap-threshold=101",
             "--urlpoll.targets=[{url=\"http://a/\", max-redirects=200, "
             "flap-threshold=101}]"}};
  REQUIRE_MESSAGE(s.errors.size() == 4, s.all_errors());
  auto problem = [](const std::string& error) {
    return error.substr(error.rfind(": ") + 2);
  };
  CHECK(problem(s.errors[0]) == "must be a whole number from 0 to 100, not "
                                "200");
  CHECK(problem(s.errors[0]) == problem(s.errors[2]));
  CHECK(problem(s.errors[1]) == problem(s.errors[3]));
  CHECK(contains(s.all_errors(), "urlpoll.max-redirects (set at the command "
                                 "line)"));
  CHECK(contains(s.all_errors(), "urlpoll.targets[1].flap-threshold"));
}

TEST_CASE("the README's table of [urlpoll] options is the one urlpoll "
          "--help-markdown=options generates, and names every option") {
  auto table = readme_between("<!-- urlpoll options: generated by "
                              "build/urlpoll --help-markdown=options -->\n",
                              "<!-- end urlpoll options -->");
  CHECK_MESSAGE(table == options_markdown(),
                "run build/urlpoll --help-markdown=options and paste its "
                "output between the markers in README.md");
  config cfg;
  for (auto& opt : cfg.options()) {
    if (opt.category() != "urlpoll")
      continue;
    auto name = opt.long_name();
    auto shown = "`" + std::string{name.begin(), name.end()} + "`";
    CHECK_MESSAGE(table.find(shown) != std::string::npos,
                  shown << " is missing from the README's options");
    CHECK_MESSAGE(!opt.description().empty(), shown << " has no help text");
  }
}

TEST_CASE("under systemd a relative history path is in the StateDirectory, "
          "elsewhere next to the config file") {
  temp_dir dir;
  auto file = dir.write("u.conf", "[urlpoll]\nurls = [\"http://a/\"]\n");
  auto state = dir.path + "/state";
  std::filesystem::create_directories(state);
  auto by_default = load_settings({"--config-file=" + file});
  REQUIRE(by_default.errors.empty());
  CHECK(by_default.values.history == dir.path + "/urlpoll-history.db");
  env_var managing{"STATE_DIRECTORY", state};
  auto managed = load_settings({"--config-file=" + file});
  auto named =
    load_settings({"--config-file=" + file, "--urlpoll.history=other.db"});
  auto absolute = load_settings(
    {"--config-file=" + file, "--urlpoll.history=" + dir.path + "/abs.db"});
  REQUIRE(managed.errors.empty());
  CHECK(managed.values.history == state + "/urlpoll-history.db");
  CHECK(named.values.history == state + "/other.db");
  CHECK(absolute.values.history == dir.path + "/abs.db");
}
