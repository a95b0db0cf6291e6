// The snapshot as Prometheus metrics: text exposition format 0.0.4, named
// by Prometheus' conventions. Pure: tested against promtool.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "messages/snapshot.hpp"

namespace urlpoll {

/// The aggregate metrics of `x` (its head: targets by state, lateness,
/// nodes, alerts, configuration, history): a few dozen series however many
/// targets there are.
std::string to_prometheus(const snapshot& x);

/// The aggregates, and with `per_target` the series of every target of `x`.
std::string to_prometheus(const snapshot& x, bool per_target);

/// The series of every target (15 or 16 each), fed a slice of targets at a
/// time: the exposition format wants each family's lines together, so each
/// family collects its own until str().
class target_metrics {
public:
  target_metrics();
  ~target_metrics();
  void add(const std::vector<target_status>& targets);
  std::string str() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace urlpoll
