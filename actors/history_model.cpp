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
    std::lround(100.0 * std::pow(2.0, static_cast<double>(bucket) / 4.0)));
}

uint8_t latency_bucket(uint32_t us) {
  if (us <= 100)
    return 0;
  auto i = std::ceil(4.0 * std::log2(static_cast<double>(us) / 100.0));
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
    if (seen >= rank)
      return std::clamp(latency_bound(bucket), min, std::max(min, max));
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
  if (latency_count > 0) {
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
