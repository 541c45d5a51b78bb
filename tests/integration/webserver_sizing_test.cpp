// How many polls the shipped Apache, lighttpd and Caddy configs park at once
// (label "sizing": it opens a thousand connections and more, so it runs on
// its own, not in the integration tier). Opens more polls than the config is
// sized for, reads the gateway's parked gauge until it stops rising, and
// checks that it stops at the figure the config and README.md give; the
// polls beyond it wait for the server (in its listen backlog) and are served
// once the parked ones are released.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/stack.hpp"
#include "tests/support/web_server.hpp"

namespace comet::test {
namespace {

struct Sized {
  const char* name;
  WebServerKind kind;
  int parks;  // what the config says it is sized for
  int open;   // polls opened: more than `parks` where the config has a cap
};

// Resident memory of every process in the server's process group, in KiB
// (Apache's master and children; lighttpd's one process).
long group_rss_kib(pid_t group) {
  long total = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so from its ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp != group) continue;
    std::ifstream status(entry.path() / "status");
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0) total += std::stol(line.substr(6));
    }
  }
  return total;
}

void PrintTo(const Sized& s, std::ostream* os) {
  *os << s.name;
}

class Sizing : public ::testing::TestWithParam<Sized> {};

TEST_P(Sizing, ParksWhatTheShippedConfigSays) {
  const int cap = GetParam().parks;
  const int open = GetParam().open;
  StackOptions o = StackOptions::without_nginx();
  // Every poll comes from this one test client: its share must not be what
  // stops them.
  o.gateway_args = {"--max-parked-per-client", "100000"};
  Stack stack(o);
  WebServerOptions w;
  w.kind = GetParam().kind;
  w.dir = stack.dir().subdir(GetParam().name);
  w.gateway = "127.0.0.1:" + std::to_string(stack.gateway().tcp_port());
  WebServer server(w);

  const auto start = Clock::now();
  std::vector<std::unique_ptr<PendingRequest>> polls;
  for (int i = 0; i < open; ++i) {
    polls.push_back(std::make_unique<PendingRequest>(server.port(), "GET",
                                                     "/comet/poll?channel=size&timeout=40"));
  }
  // The plateau: the gauge unchanged for 3 s.
  double parked = -1;
  auto changed = Clock::now();
  const bool settled = wait_until(
      [&] {
        const double now = stack.parked();
        if (now != parked) {
          parked = now;
          changed = Clock::now();
        }
        return Clock::now() - changed > std::chrono::seconds(3);
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(changed - start);
  std::cout << GetParam().name << ": " << parked << " of " << open
            << " polls parked (plateau after " << took.count() << " ms), server RSS "
            << group_rss_kib(server.process().pid()) / 1024 << " MiB\n";
  ASSERT_TRUE(settled) << "the parked count kept changing\n" << server.logs();
  EXPECT_EQ(parked, cap) << server.logs();

  // Released, the parked ones make room for the rest, which park in turn.
  stack.publish("size", "first");
  ASSERT_TRUE(stack.wait_parked(open - cap, std::chrono::seconds(20)))
      << stack.parked() << " parked\n"
      << server.logs();
  stack.publish("size", "second");
  int answered = 0;
  for (auto& p : polls) {
    auto r = p->read_response(std::chrono::seconds(20));
    ASSERT_TRUE(r) << "unanswered after " << answered << "\n" << server.logs();
    ASSERT_EQ(r->status, 200) << r->body;
    ++answered;
  }
}

INSTANTIATE_TEST_SUITE_P(, Sizing,
                         ::testing::Values(Sized{"apache", WebServerKind::apache, 1024, 1124},
                                           Sized{"lighttpd", WebServerKind::lighttpd, 4096, 4196},
                                           // No cap of its own: as many as opened.
                                           Sized{"caddy", WebServerKind::caddy, 4096, 4096}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace comet::test
