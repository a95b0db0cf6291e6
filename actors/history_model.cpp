#include "actors/history_model.hpp"

#include <algorithm>
#include <cmath>

namespace urlpoll {

int64_t to_ms(caf::timestamp x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           x.time_since_epoch())
    .count();
}

caf::timestamp from_ms(int64_t ms) {
  return caf::timestamp{std::chrono::duration_cast<caf::timestamp::duration>(
    std::chrono::milliseconds{ms})};
}

double time_known::ratio() const {
  if (known_ms <= 0)
    return -1;
  return static_cast<double>(up_ms) / static_cast<double>(known_ms);
}

namespace {

// Calls each(state, ms) for every stretch of one known state within
// [from, to) while urlpoll ran: the state holds from each change (sorted by
// time) to the next, is unknown before the first, and counts only within
// `runs` (sorted, not overlapping).
template <class F>
void for_each_stretch(const std::vector<state_change>& changes,
                      const std::vector<run_span>& runs, int64_t from,
                      int64_t to, F each) {
  if (changes.empty() || from >= to)
    return;
  // Segments of one state, walked with the runs side by side: both sorted.
  size_t r = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    auto state = changes[i].to;
    auto begin = std::max(changes[i].ms, from);
    auto end = std::min(i + 1 < changes.size() ? changes[i + 1].ms : to, to);
    if (begin >= end || state == target_state::unknown)
      continue;
    while (r < runs.size() && runs[r].to_ms <= begin)
      ++r;
    for (auto k = r; k < runs.size() && runs[k].from_ms < end; ++k) {
      auto overlap =
        std::min(end, runs[k].to_ms) - std::max(begin, runs[k].from_ms);
      if (overlap > 0)
        each(state, overlap);
    }
  }
}

bool counts_up(target_state x) {
  return x == target_state::up || x == target_state::degraded;
}

// What a moment counts as in a window: none (urlpoll stopped, or the state
// unknown), up (or degraded), or down; as stored in uptime_basis::kinds.
constexpr uint8_t kind_none = 0;
constexpr uint8_t kind_up = 1;
constexpr uint8_t kind_down = 2;

uint8_t kind_of(target_state x) {
  return counts_up(x)              ? kind_up
         : x == target_state::down ? kind_down
                                   : kind_none;
}

// The kind of time at `x`, and when it may next change (the next change or
// run edge after `x`; INT64_MAX: never).
std::pair<uint8_t, int64_t> kind_at(const std::vector<state_change>& changes,
                                    const std::vector<run_span>& runs,
                                    int64_t x) {
  auto c =
    std::upper_bound(changes.begin(), changes.end(), x,
                     [](int64_t t, const state_change& y) { return t < y.ms; });
  auto state = c == changes.begin() ? target_state::unknown : c[-1].to;
  auto until = c == changes.end() ? INT64_MAX : c->ms;
  auto r = std::upper_bound(
    runs.begin(), runs.end(), x,
    [](int64_t t, const run_span& y) { return t < y.from_ms; });
  auto running = r != runs.begin() && r[-1].to_ms > x;
  if (running)
    until = std::min(until, r[-1].to_ms);
  if (r != runs.end())
    until = std::min(until, r->from_ms);
  return {running ? kind_of(state) : kind_none, until};
}

} // namespace

time_known time_up(const std::vector<state_change>& changes,
                   const std::vector<run_span>& runs, int64_t from,
                   int64_t to) {
  time_known result;
  for_each_stretch(changes, runs, from, to, [&](target_state x, int64_t ms) {
    result.known_ms += ms;
    if (counts_up(x))
      result.up_ms += ms;
  });
  return result;
}

aggregate time_spent(const std::vector<state_change>& changes,
                     const std::vector<run_span>& runs, int64_t from,
                     int64_t to) {
  aggregate result;
  for_each_stretch(changes, runs, from, to,
                   [&](target_state x, int64_t ms) { result.spend(x, ms); });
  return result;
}

uptime_figures uptime_at(const std::vector<state_change>& changes,
                         const std::vector<run_span>& runs, int64_t now) {
  uptime_figures out;
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<float>(
      time_up(changes, runs, now - uptime_windows_ms[i], now).ratio());
  return out;
}

static_assert(sizeof(uptime_basis) == 64,
              "the state monitor holds one for each of a million targets");

uptime_basis basis_at(const std::vector<state_change>& changes,
                      const std::vector<run_span>& runs, int64_t open,
                      int64_t at) {
  uptime_basis b;
  b.at = at;
  // What lies before the longest window never counts.
  open = std::clamp(open, at - longest_window_ms - ms_per_day, at);
  b.open_age_ms = static_cast<uint32_t>(at - open);
  for (size_t i = 0; i < b.windows.size(); ++i) {
    auto start = at - uptime_windows_ms[i];
    if (start >= open)
      continue; // All of the window is the open interval.
    auto& w = b.windows[i];
    auto known = time_up(changes, runs, start, open);
    w.up_ms = static_cast<uint32_t>(known.up_ms);
    w.known_ms = static_cast<uint32_t>(known.known_ms);
    // The kind at the start, for as long as it holds, and the next one.
    auto [kind, until] = kind_at(changes, runs, start);
    auto next = kind;
    while (until < open) {
      auto [after, later] = kind_at(changes, runs, until);
      if (after != kind) {
        next = after;
        break;
      }
      until = later;
    }
    w.hold_ms = static_cast<uint32_t>(std::min(until, open) - start);
    b.kinds |= static_cast<uint16_t>(kind << (2 * i));
    b.kinds |= static_cast<uint16_t>(next << (8 + 2 * i));
  }
  return b;
}

int64_t refresh_due(const uptime_basis& b) {
  auto due = INT64_MAX;
  auto open = b.at - b.open_age_ms;
  for (size_t i = 0; i < b.windows.size(); ++i) {
    auto start = b.at - uptime_windows_ms[i];
    // The kind at the start changes before the open interval: once that
    // moment is the window's start, the basis knows no further.
    if (start < open && start + b.windows[i].hold_ms < open)
      due = std::min(due, b.at + b.windows[i].hold_ms);
  }
  return due;
}

uptime_figures uptime_now(const uptime_basis& b,
                          const std::vector<transition>& recent,
                          target_state state, int64_t now) {
  uptime_figures out{-1, -1, -1, -1};
  if (b.at == 0)
    return out;
  auto open = b.at - b.open_age_ms;
  // The transitions since the open interval began (those the history did
  // not know of yet, if any): the state before the first held from `open`.
  auto first = recent.end();
  while (first != recent.begin() && to_ms(first[-1].time) > open)
    --first;
  auto at_open = first == recent.end() ? state : first->from;
  auto slid = std::max<int64_t>(0, now - b.at);
  for (size_t i = 0; i < out.size(); ++i) {
    auto start = now - uptime_windows_ms[i];
    int64_t up = 0;
    int64_t known = 0;
    if (start < open) {
      // The basis, less what slid out: `slid` of the window's start went,
      // of the kind at the start for hold_ms, then of the kind after.
      auto& w = b.windows[i];
      auto kind = (b.kinds >> (2 * i)) & 3;
      auto next = (b.kinds >> (8 + 2 * i)) & 3;
      auto first_part = std::min<int64_t>(slid, w.hold_ms);
      auto rest = slid - first_part;
      up = int64_t{w.up_ms} - (kind == kind_up ? first_part : 0) -
           (next == kind_up ? rest : 0);
      known = int64_t{w.known_ms} - (kind != kind_none ? first_part : 0) -
              (next != kind_none ? rest : 0);
      up = std::max<int64_t>(0, up);
      known = std::max<int64_t>(0, known);
    }
    // The open interval within the window, up to `now`.
    auto count = [&](target_state x, int64_t from, int64_t to) {
      auto ms = std::min(to, now) - std::max({from, start, open});
      if (ms <= 0 || kind_of(x) == kind_none)
        return;
      known += ms;
      if (counts_up(x))
        up += ms;
    };
    auto from = open;
    auto in = at_open;
    for (auto t = first; t != recent.end(); ++t) {
      auto ms = to_ms(t->time);
      count(in, from, ms);
      from = ms;
      in = t->to;
    }
    count(in, from, now);
    out[i] = static_cast<float>(time_known{up, known}.ratio());
  }
  return out;
}

void prune(std::vector<state_change>& changes, int64_t cutoff) {
  auto first_needed =
    std::upper_bound(changes.begin(), changes.end(), cutoff,
                     [](int64_t t, const state_change& c) { return t < c.ms; });
  if (first_needed - changes.begin() > 1)
    changes.erase(changes.begin(), first_needed - 1);
}

uint32_t latency_bound(size_t bucket) {
  return static_cast<uint32_t>(
    std::lround(100.0 * std::pow(2.0, static_cast<double>(bucket) / 2.0)));
}

uint8_t latency_bucket(uint32_t us) {
  if (us <= 100)
    return 0;
  auto i = std::ceil(2.0 * std::log2(static_cast<double>(us) / 100.0));
  auto bucket = static_cast<size_t>(std::min(i, 255.0));
  // Rounding of the bound: the bucket is the first whose bound holds `us`.
  while (bucket > 0 && latency_bound(bucket - 1) >= us)
    --bucket;
  while (latency_bound(bucket) < us && bucket < 255)
    ++bucket;
  return static_cast<uint8_t>(bucket);
}

namespace {

// Adds `count` to bucket `bucket` of the sorted `bins`.
void add_to(std::vector<std::pair<uint8_t, uint32_t>>& bins, uint8_t bucket,
            uint32_t count) {
  auto i = std::lower_bound(bins.begin(), bins.end(), bucket,
                            [](const std::pair<uint8_t, uint32_t>& b,
                               uint8_t x) { return b.first < x; });
  if (i != bins.end() && i->first == bucket)
    i->second += count;
  else
    bins.insert(i, {bucket, count});
}

} // namespace

void latency_digest::add(uint32_t us, uint32_t count) {
  add_to(bins, latency_bucket(us), count);
}

void latency_digest::merge(const latency_digest& other) {
  for (auto& [bucket, count] : other.bins)
    add_to(bins, bucket, count);
}

uint32_t latency_digest::quantile(double q, uint32_t min, uint32_t max) const {
  uint64_t total = 0;
  for (auto& b : bins)
    total += b.second;
  if (total == 0)
    return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (auto& [bucket, count] : bins) {
    seen += count;
    if (seen >= rank) {
      // The bucket's geometric middle: within 2^(1/4) (19%) of any latency
      // in it.
      auto middle = static_cast<uint32_t>(
        std::lround(static_cast<double>(latency_bound(bucket)) / 1.189207));
      return std::clamp(middle, min, std::max(min, max));
    }
  }
  return max;
}

namespace {

void put_varint(std::string& out, uint64_t x) {
  while (x >= 0x80) {
    out += static_cast<char>((x & 0x7f) | 0x80);
    x >>= 7;
  }
  out += static_cast<char>(x);
}

bool get_varint(const unsigned char*& p, const unsigned char* end,
                uint64_t& x) {
  x = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    auto byte = *p++;
    x |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return true;
  }
  return false;
}

} // namespace

std::string latency_digest::encode() const {
  std::string out;
  for (auto& [bucket, count] : bins) {
    put_varint(out, bucket);
    put_varint(out, count);
  }
  return out;
}

latency_digest latency_digest::decode(const void* data, size_t size) {
  latency_digest result;
  auto p = static_cast<const unsigned char*>(data);
  auto end = p + size;
  uint64_t bucket = 0;
  uint64_t count = 0;
  while (p < end && get_varint(p, end, bucket) && get_varint(p, end, count))
    if (bucket < 256 && count > 0)
      result.bins.emplace_back(static_cast<uint8_t>(bucket),
                               static_cast<uint32_t>(count));
  std::sort(result.bins.begin(), result.bins.end());
  return result;
}

bool aggregate::empty() const {
  return unknown + up + degraded + down == 0 &&
         up_ms + degraded_ms + down_ms == 0;
}

void aggregate::add(const poll_sample& x) {
  switch (x.verdict) {
  case target_state::up:
    ++up;
    break;
  case target_state::degraded:
    ++degraded;
    break;
  case target_state::down:
    ++down;
    break;
  default:
    ++unknown;
  }
  if (!x.answered)
    return;
  latency_min_us =
    latency_count == 0 ? x.latency_us : std::min(latency_min_us, x.latency_us);
  latency_max_us = std::max(latency_max_us, x.latency_us);
  ++latency_count;
  latency_sum_us += x.latency_us;
  latency.add(x.latency_us);
}

void aggregate::spend(target_state state, int64_t ms) {
  if (ms <= 0)
    return;
  switch (state) {
  case target_state::up:
    up_ms += ms;
    break;
  case target_state::degraded:
    degraded_ms += ms;
    break;
  case target_state::down:
    down_ms += ms;
    break;
  default:
    break;
  }
}

void aggregate::keep_percentiles_only() {
  if (latency.bins.empty())
    return;
  percentiles = {latency.quantile(0.50, latency_min_us, latency_max_us),
                 latency.quantile(0.95, latency_min_us, latency_max_us),
                 latency.quantile(0.99, latency_min_us, latency_max_us)};
  latency.bins.clear();
}

namespace {

// The fields an aggregate is stored as, in order.
constexpr size_t stored_fields = 11;

// Bits 0-10: which of the stored fields follow (the others are 0: a stable
// target's down answers and seconds cost nothing); bit 11: a histogram
// follows; bit 12: percentiles follow.
constexpr uint64_t with_histogram = uint64_t{1} << stored_fields;
constexpr uint64_t with_percentiles = with_histogram << 1;

} // namespace

std::string encode(const aggregate& x) {
  auto seconds = [](int64_t ms) {
    return static_cast<uint64_t>(std::max<int64_t>(0, (ms + 500) / 1000));
  };
  // Polls without a latency rather than with one (mostly 0), the sum in
  // units of 10 us (a day's fits in 3 bytes).
  uint64_t polls = uint64_t{x.unknown} + x.up + x.degraded + x.down;
  uint64_t unanswered = polls - std::min<uint64_t>(polls, x.latency_count);
  uint64_t fields[stored_fields] = {x.up,
                                    seconds(x.up_ms),
                                    (x.latency_sum_us + 5) / 10,
                                    x.latency_min_us,
                                    x.latency_max_us,
                                    x.unknown,
                                    x.degraded,
                                    x.down,
                                    seconds(x.degraded_ms),
                                    seconds(x.down_ms),
                                    unanswered};
  uint64_t mask = x.latency.bins.empty()
                    ? (x.latency_count > 0 ? with_percentiles : 0)
                    : with_histogram;
  for (size_t i = 0; i < stored_fields; ++i)
    if (fields[i] != 0)
      mask |= uint64_t{1} << i;
  std::string out;
  put_varint(out, mask);
  for (size_t i = 0; i < stored_fields; ++i)
    if (fields[i] != 0)
      put_varint(out, fields[i]);
  if (mask & with_histogram) {
    put_varint(out, x.latency.bins.size());
    // Buckets as steps from the one before: one byte each.
    uint64_t last = 0;
    for (auto& [bucket, count] : x.latency.bins) {
      put_varint(out, bucket - last);
      put_varint(out, count);
      last = bucket;
    }
  } else if (mask & with_percentiles) {
    for (auto p : x.percentiles)
      put_varint(out, p);
  }
  return out;
}

aggregate decode_aggregate(const void* data, size_t size) {
  aggregate x;
  auto p = static_cast<const unsigned char*>(data);
  auto end = p + size;
  uint64_t mask = 0;
  if (!get_varint(p, end, mask))
    return x;
  uint64_t v[stored_fields] = {};
  for (size_t i = 0; i < stored_fields; ++i)
    if ((mask & (uint64_t{1} << i)) != 0 && !get_varint(p, end, v[i]))
      return aggregate{};
  auto u32 = [](uint64_t y) {
    return static_cast<uint32_t>(std::min<uint64_t>(y, UINT32_MAX));
  };
  x.up = u32(v[0]);
  x.up_ms = static_cast<int64_t>(v[1]) * 1000;
  x.latency_sum_us = v[2] * 10;
  x.latency_min_us = u32(v[3]);
  x.latency_max_us = u32(v[4]);
  x.unknown = u32(v[5]);
  x.degraded = u32(v[6]);
  x.down = u32(v[7]);
  x.degraded_ms = static_cast<int64_t>(v[8]) * 1000;
  x.down_ms = static_cast<int64_t>(v[9]) * 1000;
  auto polls = v[0] + v[5] + v[6] + v[7];
  x.latency_count = u32(polls - std::min(polls, v[10]));
  if (mask & with_histogram) {
    uint64_t n = 0;
    uint64_t bucket = 0;
    if (!get_varint(p, end, n))
      return x;
    for (uint64_t i = 0; i < n && i < 256; ++i) {
      uint64_t step = 0;
      uint64_t count = 0;
      if (!get_varint(p, end, step) || !get_varint(p, end, count))
        break;
      bucket += step;
      if (bucket < 256 && count > 0)
        x.latency.bins.emplace_back(static_cast<uint8_t>(bucket), u32(count));
    }
  } else if (mask & with_percentiles) {
    for (auto& q : x.percentiles) {
      uint64_t y = 0;
      if (get_varint(p, end, y))
        q = u32(y);
    }
  }
  return x;
}

void aggregate::merge(const aggregate& other) {
  unknown += other.unknown;
  up += other.up;
  degraded += other.degraded;
  down += other.down;
  up_ms += other.up_ms;
  degraded_ms += other.degraded_ms;
  down_ms += other.down_ms;
  if (other.latency_count > 0) {
    latency_min_us = latency_count == 0
                       ? other.latency_min_us
                       : std::min(latency_min_us, other.latency_min_us);
    latency_max_us = std::max(latency_max_us, other.latency_max_us);
  }
  latency_count += other.latency_count;
  latency_sum_us += other.latency_sum_us;
  // Percentiles alone do not merge: the larger stands for both.
  for (size_t i = 0; i < percentiles.size(); ++i)
    percentiles[i] = std::max(percentiles[i], other.percentiles[i]);
  latency.merge(other.latency);
}

double aggregate::uptime() const {
  return time_known{up_ms + degraded_ms, up_ms + degraded_ms + down_ms}.ratio();
}

history_point aggregate::point(caf::timestamp time) const {
  history_point p;
  p.time = time;
  p.polls = uint64_t{unknown} + up + degraded + down;
  p.up = up;
  p.degraded = degraded;
  p.down = down;
  p.up_seconds = static_cast<uint64_t>(up_ms / 1000);
  p.degraded_seconds = static_cast<uint64_t>(degraded_ms / 1000);
  p.down_seconds = static_cast<uint64_t>(down_ms / 1000);
  p.latency_count = latency_count;
  if (latency_count > 0 && latency.bins.empty()) {
    p.latency_avg_us =
      static_cast<double>(latency_sum_us) / static_cast<double>(latency_count);
    p.latency_min_us = latency_min_us;
    p.latency_max_us = latency_max_us;
    p.latency_p50_us = percentiles[0];
    p.latency_p95_us = percentiles[1];
    p.latency_p99_us = percentiles[2];
  } else if (latency_count > 0) {
    p.latency_avg_us =
      static_cast<double>(latency_sum_us) / static_cast<double>(latency_count);
    p.latency_min_us = latency_min_us;
    p.latency_max_us = latency_max_us;
    p.latency_p50_us = latency.quantile(0.50, latency_min_us, latency_max_us);
    p.latency_p95_us = latency.quantile(0.95, latency_min_us, latency_max_us);
    p.latency_p99_us = latency.quantile(0.99, latency_min_us, latency_max_us);
  }
  return p;
}

} // namespace urlpoll
