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

time_known time_up(const std::vector<state_change>& changes,
                   const std::vector<run_span>& runs, int64_t from,
                   int64_t to) {
  time_known result;
  if (changes.empty() || from >= to)
    return result;
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
      if (overlap <= 0)
        continue;
      result.known_ms += overlap;
      if (state == target_state::up || state == target_state::degraded)
        result.up_ms += overlap;
    }
  }
  return result;
}

uptime_figures uptime_at(const std::vector<state_change>& changes,
                         const std::vector<run_span>& runs, int64_t now) {
  static constexpr int64_t windows[] = {ms_per_hour, ms_per_day, 7 * ms_per_day,
                                        30 * ms_per_day};
  uptime_figures out;
  for (size_t i = 0; i < out.size(); ++i)
    out[i] =
      static_cast<float>(time_up(changes, runs, now - windows[i], now).ratio());
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
