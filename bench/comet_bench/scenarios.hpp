// The scenarios comet_bench runs; each prints its progress and a table, and
// writes its result file under Options::out. Returns the exit status.
#pragma once

#include "bench/comet_bench/options.hpp"

namespace bench {

// Fan-out through nginx: nchan, bare_responder and comet-gateway.
int scenario_fanout(const Options& o);
// Steady publish rate through nginx: nchan and comet-gateway.
int scenario_rate(const Options& o);
// comet-gateway alone over multiplexed FastCGI.
int scenario_gateway(const Options& o);
// A presence channel's cost: Redis and the gateways, joins, leaves, webhooks.
int scenario_presence(const Options& o);

}  // namespace bench
