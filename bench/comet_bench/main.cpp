// comet_bench: one command that runs a scenario against comet-gateway and
// nchan in the same run (same nginx binary, same worker count) and prints a
// table with the ratio. It starts redis-server, comet-gateway and nginx (one
// config per system) on free loopback ports and stops them, by pid, when done.
//
//   comet_bench fanout   [--count 8000] [--rounds 5] [--runs 1] [--workers 1]
//                        [--transports unix,tcp] [--systems nchan,bare,comet] [--gateways 1]
//   comet_bench rate     [--rates 1000,5000,20000] [--seconds 10] [--channels 100]
//                        [--subscribers 10] [--workers 1] [--gateways 1[,2...]]
//                        [--systems nchan,comet]
//   comet_bench gateway  [--parked 100000,1000000] [--idle-seconds 10] [--per-connection 50000]
//   comet_bench presence [--members 10000] [--join-rate 100] [--probes 20] [--window 30]
//   comet_bench all      (fanout, rate and gateway with their defaults)
//
// --gateways: how many comet-gateway processes on the same Redis, each on its
// own socket, all in nginx's comet upstream (round robin); the rate scenario
// runs every rate with each count, fan-out uses the first count.
//
// Common options: --build DIR (where comet-gateway is; default: next to this
// binary's parent), --out DIR (result files for docs/plot; default
// BUILD/bench-results), --keep (keep the temporary directory with the logs),
// --quiet-wait S (wait at most S seconds for idle CPUs before each
// measurement; default: as long as each wait allows).
//
// The load generator is its own epoll loop (no framework): HTTP/1.1 keep-alive
// clients for nginx (comet-gateway behind fastcgi_pass, nchan long-poll), a
// multiplexing FastCGI client for the gateway alone, RESP for Redis PUBLISH and
// HTTP POST for nchan's publisher.
//
// This file only dispatches: one file per scenario beside it (fanout.cpp,
// rate.cpp, gateway.cpp, presence.cpp), what they share about the systems and the run in
// stack, systems and publish, and the generic helpers in bench/common/.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <exception>

#include "bench/comet_bench/options.hpp"
#include "bench/comet_bench/scenarios.hpp"
#include "bench/common/die.hpp"
#include "bench/common/machine_load.hpp"
#include "bench/common/perf_record.hpp"
#include "bench/common/processes.hpp"

int main(int argc, char** argv) {
  using namespace bench;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, kill_children_on_signal);
  signal(SIGTERM, kill_children_on_signal);
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  try {
    const Options o = parse(argc, argv);
    g_perf_prefix = o.perf;
    if (o.quiet_wait >= 0) g_quiet_limit = std::chrono::seconds(o.quiet_wait);
    if (o.mode == "fanout") return scenario_fanout(o);
    if (o.mode == "rate") return scenario_rate(o);
    if (o.mode == "gateway") return scenario_gateway(o);
    if (o.mode == "presence") return scenario_presence(o);
    if (o.mode == "all") {
      int rc = scenario_fanout(o);
      rc |= scenario_rate(o);
      rc |= scenario_gateway(o);
      return rc;
    }
    die("unknown scenario " + o.mode);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "comet_bench: %s\n", e.what());
    return 1;
  }
}
