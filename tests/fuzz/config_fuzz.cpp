// Fuzz target: the configuration loader. The input is a config file in CAF's
// INI dialect; it goes through the whole of load_settings, as start-up,
// reload and --check-config read a file: urlpoll's own checks
// (check_config_file), CAF's parser, then make_settings with its targets,
// alerts and rules. It must answer with settings or errors, never crash,
// hang or leak, and good settings must hold only URLs urlpoll can poll.
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>

#include "actors/target_url.hpp"
#include "app/config.hpp"
#include "fuzz_support.hpp"

using namespace urlpoll;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto path = fuzz::scratch().write("urlpoll.conf", data, size);
  auto loaded = load_settings({"--config-file=" + path});
  if (!loaded.errors.empty())
    return 0;
  // Each target is shown by its name, or its URL without its secrets: one
  // name for one target.
  std::set<std::string> names;
  for (auto& target : loaded.values.targets) {
    URLPOLL_FUZZ_ASSERT(!check_url(target.url));
    URLPOLL_FUZZ_ASSERT(target.rules != nullptr);
    URLPOLL_FUZZ_ASSERT(target.state_rules <
                        loaded.values.state_rule_sets.size());
    URLPOLL_FUZZ_ASSERT(names.insert(identity(target)).second);
  }
  return 0;
}
