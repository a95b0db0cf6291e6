// What the history costs on disk: N stable targets polled every 10 s, their
// hours written as urlpoll writes them (history-flush every minute, the
// hour's row replaced), rolled into days after 14 days and expired after
// 400, simulated day by day with the real history_store on a real file.
// Prints the database size per target after 1 day, 14 days, 15 days and
// 400 days (and 401: the size retention holds it at).
//
//   build/bench/urlpoll_history_size [TARGETS] [DAYS]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "actors/history_store.hpp"

using namespace urlpoll;

int main(int argc, char** argv) {
  auto targets = argc > 1 ? std::atoi(argv[1]) : 200;
  auto days = argc > 2 ? std::atoi(argv[2]) : 401;
  auto dir = std::filesystem::temp_directory_path() / "urlpoll-history-size";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto path = (dir / "history.db").string();
  int64_t first_day = 20'000;
  std::mt19937 rng{42};
  // Loopback-like latencies around 1 ms, a few slower.
  std::lognormal_distribution<double> latency{std::log(900.0), 0.3};
  {
    history_store store{path};
    std::vector<int64_t> ids;
    store.begin();
    for (int t = 0; t < targets; ++t)
      ids.push_back(store.target("https://service-" + std::to_string(t) +
                                 ".example.org/health"));
    store.commit();
    std::printf("| days kept | bytes per target |\n|---|---|\n");
    for (int d = 0; d < days; ++d) {
      auto day = first_day + d;
      for (int h = 0; h < 24; ++h) {
        store.begin();
        for (auto id : ids) {
          aggregate a;
          for (int p = 0; p < 360; ++p) {
            poll_sample x;
            x.verdict = target_state::up;
            x.answered = true;
            x.latency_us = static_cast<uint32_t>(latency(rng));
            a.add(x);
          }
          a.spend(target_state::up, ms_per_hour);
          store.save_hour(id, day * 24 + h, a, true);
        }
        store.touch_run(1, (day * 24 + h) * ms_per_hour);
        store.commit();
      }
      // urlpoll's housekeeping, once a day here (hourly in urlpoll).
      auto now = (day + 1) * ms_per_day;
      store.begin();
      store.roll_up(((now - 14 * ms_per_day) / ms_per_day) * 24);
      store.expire(now - 400 * ms_per_day);
      store.commit();
      auto n = d + 1;
      if (n == 1 || n == 7 || n == 14 || n == 15 || n == 30 || n == 100 ||
          n == 200 || n == 400 || n == days) {
        // What the file holds once the write-ahead log is checkpointed.
        std::system(("sqlite3 " + path +
                     " 'PRAGMA wal_checkpoint(TRUNCATE)' "
                     ">/dev/null")
                      .c_str());
        auto per = static_cast<double>(store.size_bytes()) / targets;
        std::printf("| %d | %.0f |\n", n, per);
        std::fflush(stdout);
      }
    }
  }
  if (std::getenv("URLPOLL_KEEP") == nullptr)
    std::filesystem::remove_all(dir);
  return 0;
}
