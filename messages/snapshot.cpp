#include "messages/snapshot.hpp"

namespace urlpoll {

const char* to_string(target_state x) {
  switch (x) {
  case target_state::up:
    return "up";
  case target_state::degraded:
    return "degraded";
  case target_state::down:
    return "down";
  default:
    return "unknown";
  }
}

const std::vector<double>& lateness_buckets() {
  static const std::vector<double> bounds{0.001, 0.0025, 0.005, 0.01, 0.025,
                                          0.05,  0.1,    0.25,  0.5,  1,
                                          2.5,   5,      10};
  return bounds;
}

const char* to_string(http_method x) {
  return x == http_method::get ? "GET" : "HEAD";
}

} // namespace urlpoll
