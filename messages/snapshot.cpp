#include "messages/snapshot.hpp"

namespace urlpoll {

const char* to_string(target_state x) {
  switch (x) {
  case target_state::up:
    return "up";
  case target_state::down:
    return "down";
  default:
    return "unknown";
  }
}

} // namespace urlpoll
