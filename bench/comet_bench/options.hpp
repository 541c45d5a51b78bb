// comet_bench's command line (the options are listed in main.cpp's header).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bench {

namespace fs = std::filesystem;

struct Options {
  std::string mode;
  fs::path build, root, out;
  int count = 8000, rounds = 5, workers = 1;
  // fanout: the systems' sequence this many times, forwards then backwards
  // (nchan, bare, comet, then comet, bare, nchan, ...), rounds pooled.
  int runs = 1;
  // comet-gateway processes on the same Redis behind one nginx upstream;
  // the rate scenario runs each count in turn, fan-out the first.
  std::vector<int> gateways{1};
  std::vector<std::string> transports{"unix", "tcp"};
  std::vector<std::string> systems{"nchan", "bare", "comet"};  // fanout
  std::vector<int> rates{1000, 5000, 20000};
  double seconds = 10;
  int channels = 100, subscribers = 10;
  std::vector<long> parked{100000, 1000000};
  double idle_seconds = 10;
  int per_connection = 50000;
  // presence
  int members = 10000, probes = 20, join_rate = 100;
  double window = 30;
  bool keep = false;
  int quiet_wait = -1;  // seconds; cap on waiting for idle CPUs (-1: none)
  std::string perf;     // perf record -a around each fan-out, to this file prefix
};

// argv[1] is the scenario, the rest its options. Dies on an unknown or
// incomplete option, and when --build has no comet-gateway or --root no
// nginx.conf.example.
Options parse(int argc, char** argv);

}  // namespace bench
