// What the history computes, as pure functions tested without a database or
// a clock: a target's uptime by time from its state changes, and the
// aggregates of an hour or a day (answers by state, seconds in each state,
// latency with a small histogram for its percentiles).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "messages/history.hpp"

namespace urlpoll {

/// Milliseconds since the epoch: how the history stores time.
int64_t to_ms(caf::timestamp x);
caf::timestamp from_ms(int64_t ms);

constexpr int64_t ms_per_hour = 3'600'000;
constexpr int64_t ms_per_day = 24 * ms_per_hour;

/// A target's state from `ms` on.
struct state_change {
  int64_t ms = 0;
  target_state to = target_state::unknown;
};

/// A time urlpoll ran: [from_ms, to_ms).
struct run_span {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
};

/// Time up (or degraded) and time known within a window, in milliseconds.
struct time_known {
  int64_t up_ms = 0;
  int64_t known_ms = 0;

  /// up / known, or -1 where nothing was known.
  double ratio() const;
};

/// The time a target was up or degraded, and the time its state was known,
/// within [from, to): its state holds from each change (sorted by time) to
/// the next, is unknown before the first, and counts only while urlpoll ran
/// (`runs`, sorted, not overlapping). Time while urlpoll was stopped is no
/// data, neither up nor down.
time_known time_up(const std::vector<state_change>& changes,
                   const std::vector<run_span>& runs, int64_t from, int64_t to);

/// The 1h, 24h, 7d and 30d figures at `now`.
uptime_figures uptime_at(const std::vector<state_change>& changes,
                         const std::vector<run_span>& runs, int64_t now);

/// The windows of uptime_figures, in milliseconds.
constexpr std::array<int64_t, 4> uptime_windows_ms{
  ms_per_hour, ms_per_day, 7 * ms_per_day, 30 * ms_per_day};

/// The longest uptime window: what a target's changes must reach back to.
constexpr int64_t longest_window_ms = uptime_windows_ms.back();

/// What the state monitor needs to tell a target's figures from `at` on
/// (uptime_now): computed from its changes and the runs up to `at`, with
/// the open interval from `open` on left to the monitor.
uptime_basis basis_at(const std::vector<state_change>& changes,
                      const std::vector<run_span>& runs, int64_t open,
                      int64_t at);

/// When `basis` needs computing again: the moment a change or a run's edge
/// slides past the start of a window, beyond which it tells the kind of
/// time sliding out no longer; INT64_MAX: never (until the state changes).
int64_t refresh_due(const uptime_basis& basis);

/// The 1h, 24h, 7d and 30d figures at `now`, exactly: the history's
/// `basis`, less what slid out of each window since, plus the open
/// interval up to `now`, in which the target was in the states of its
/// `recent` transitions (oldest first) after the open interval began, and
/// is in `state` now. Negative where nothing is known, and without a basis.
uptime_figures uptime_now(const uptime_basis& basis,
                          const std::vector<transition>& recent,
                          target_state state, int64_t now);

/// Drops the changes no window needs any longer: those before `cutoff`,
/// but the last of them (the state at `cutoff`).
void prune(std::vector<state_change>& changes, int64_t cutoff);

/// A sparse latency histogram: bucket i holds latencies up to
/// latency_bound(i) microseconds (100 us times 2^(i/2); a quantile is told
/// as its bucket's geometric middle, within 19% of the true one), with
/// counts of the buckets that have any. Few buckets keep an hour's row
/// small on disk.
struct latency_digest {
  std::vector<std::pair<uint8_t, uint32_t>> bins;

  void add(uint32_t us, uint32_t count = 1);
  void merge(const latency_digest& other);
  /// The q-quantile (its bucket's middle), clamped to [min, max].
  uint32_t quantile(double q, uint32_t min, uint32_t max) const;
  /// As stored: varint pairs of bucket and count.
  std::string encode() const;
  static latency_digest decode(const void* data, size_t size);
};

uint32_t latency_bound(size_t bucket);
uint8_t latency_bucket(uint32_t us);

/// One target's hour or day.
struct aggregate {
  /// Polls by verdict (unknown: no node could poll).
  uint32_t unknown = 0;
  uint32_t up = 0;
  uint32_t degraded = 0;
  uint32_t down = 0;
  /// Milliseconds spent up, degraded and down.
  int64_t up_ms = 0;
  int64_t degraded_ms = 0;
  int64_t down_ms = 0;
  uint32_t latency_count = 0;
  uint64_t latency_sum_us = 0;
  uint32_t latency_min_us = 0;
  uint32_t latency_max_us = 0;
  latency_digest latency;
  /// p50, p95 and p99 kept without the histogram (a day rolled up from its
  /// hours): used when `latency` is empty.
  std::array<uint32_t, 3> percentiles{0, 0, 0};

  bool empty() const;
  void add(const poll_sample& x);
  /// Time spent in `state` (unknown: not counted).
  void spend(target_state state, int64_t ms);
  void merge(const aggregate& other);
  /// As the API shows it, starting at `time`.
  history_point point(caf::timestamp time) const;
  /// Uptime by time within it: -1 where nothing was known.
  double uptime() const;
  /// Replaces the histogram by the percentiles it gives (a day kept for
  /// long needs no more).
  void keep_percentiles_only();
};

/// An aggregate as stored: one blob of varints, time in whole seconds.
std::string encode(const aggregate& x);
aggregate decode_aggregate(const void* data, size_t size);

/// The time spent up, degraded and down within [from, to), as time_up
/// counts it, in an aggregate with nothing else: an hour's time in each
/// state, told by its transitions and the runs.
aggregate time_spent(const std::vector<state_change>& changes,
                     const std::vector<run_span>& runs, int64_t from,
                     int64_t to);

} // namespace urlpoll
