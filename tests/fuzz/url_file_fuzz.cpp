// Fuzz target: the url-file parser. The input is a url-file (one URL a line,
// # comments, blank lines, any line ending), read by load_settings from a
// config file that names it, as urlpoll reads one at start-up and reload.
// Good settings hold each URL once, trimmed, and only URLs urlpoll can poll.
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

#include "actors/target_url.hpp"
#include "app/config.hpp"
#include "fuzz_support.hpp"

using namespace urlpoll;

namespace {

const std::string& config_path() {
  static const std::string path = [] {
    const std::string text = "[urlpoll]\n"
                             "url-file = \"urls.txt\"\n"
                             "history = \"\"\n";
    return fuzz::scratch().write("urlpoll.conf", text.data(), text.size());
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& config = config_path();
  fuzz::scratch().write("urls.txt", data, size);
  auto loaded = load_settings({"--config-file=" + config});
  if (!loaded.errors.empty())
    return 0;
  URLPOLL_FUZZ_ASSERT(!loaded.values.targets.empty());
  std::set<std::string> urls;
  for (auto& target : loaded.values.targets) {
    auto& url = target.url;
    URLPOLL_FUZZ_ASSERT(!check_url(url));
    URLPOLL_FUZZ_ASSERT(url.front() != '#' && url.front() != ' ' &&
                        url.back() != ' ' && url.back() != '\r');
    URLPOLL_FUZZ_ASSERT(urls.insert(url).second);
  }
  return 0;
}
