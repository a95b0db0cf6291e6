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

const char* to_string(http_method x) {
  return x == http_method::get ? "GET" : "HEAD";
}

} // namespace urlpoll
