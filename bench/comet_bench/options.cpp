#include "bench/comet_bench/options.hpp"

#include <algorithm>

#include "bench/common/die.hpp"
#include "bench/common/text.hpp"

namespace bench {

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2)
    die("usage: comet_bench fanout|rate|gateway|presence|all [options] (see the header of "
        "bench/comet_bench/main.cpp)");
  o.mode = argv[1];
  const fs::path self = fs::canonical("/proc/self/exe");
  o.build = self.parent_path().parent_path();
  // The source tree, from this file's place in it (bench/comet_bench/): the
  // bench reads nginx.conf.example and bench/nginx-nchan.conf from there.
  o.root = fs::path(__FILE__).parent_path().parent_path().parent_path();
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--keep") {
      o.keep = true;
      continue;
    }
    if (i + 1 >= argc) die("missing value for " + k);
    const std::string v = argv[++i];
    if (k == "--count")
      o.count = std::stoi(v);
    else if (k == "--rounds")
      o.rounds = std::stoi(v);
    else if (k == "--runs")
      o.runs = std::max(1, std::stoi(v));
    else if (k == "--workers")
      o.workers = std::stoi(v);
    else if (k == "--gateways") {
      o.gateways.clear();
      for (const auto& s : split(v, ',')) o.gateways.push_back(std::stoi(s));
      if (o.gateways.empty() || *std::min_element(o.gateways.begin(), o.gateways.end()) < 1)
        die("--gateways takes counts of 1 or more");
    } else if (k == "--transports")
      o.transports = split(v, ',');
    else if (k == "--systems")
      o.systems = split(v, ',');
    else if (k == "--rates") {
      o.rates.clear();
      for (const auto& s : split(v, ',')) o.rates.push_back(std::stoi(s));
    } else if (k == "--seconds")
      o.seconds = std::stod(v);
    else if (k == "--channels")
      o.channels = std::stoi(v);
    else if (k == "--subscribers")
      o.subscribers = std::stoi(v);
    else if (k == "--parked") {
      o.parked.clear();
      for (const auto& s : split(v, ',')) o.parked.push_back(std::stol(s));
    } else if (k == "--idle-seconds")
      o.idle_seconds = std::stod(v);
    else if (k == "--per-connection")
      o.per_connection = std::min(65535, std::stoi(v));
    else if (k == "--members")
      o.members = std::stoi(v);
    else if (k == "--probes")
      o.probes = std::min(99, std::stoi(v));
    else if (k == "--join-rate")
      o.join_rate = std::max(1, std::stoi(v));
    else if (k == "--window")
      o.window = std::stod(v);
    else if (k == "--build")
      o.build = v;
    else if (k == "--root")
      o.root = v;
    else if (k == "--out")
      o.out = v;
    else if (k == "--quiet-wait")
      o.quiet_wait = std::stoi(v);
    else if (k == "--perf")
      o.perf = v;
    else
      die("unknown option " + k);
  }
  if (o.out.empty()) o.out = o.build / "bench-results";
  if (!fs::exists(o.build / "comet-gateway"))
    die("no comet-gateway in " + o.build.string() + " (--build DIR)");
  if (!fs::exists(o.root / "nginx.conf.example"))
    die("no nginx.conf.example in " + o.root.string() + " (--root DIR)");
  return o;
}

}  // namespace bench
