// The snapshot as Prometheus metrics: text exposition format 0.0.4, named
// by Prometheus' conventions. Pure: tested against promtool.
#pragma once

#include <string>

#include "messages/snapshot.hpp"

namespace urlpoll {

/// Every metric of GET /metrics, for `x`.
std::string to_prometheus(const snapshot& x);

} // namespace urlpoll
