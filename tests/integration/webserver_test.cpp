// Apache, lighttpd and Caddy in front of a real comet-gateway and
// redis-server, each run with its deploy/ file as shipped (nginx, with
// nginx.conf.example, alongside for comparison): PHP's PUBLISH releases a
// parked poll, a burst followed by cursors loses and repeats nothing, a
// poll's timeout is answered in time, an aborted poll is freed as far as the
// server lets the gateway know, FastCGI connections are kept or closed as
// the server asks (FCGI_KEEP_CONN), SSE events are not buffered, 200 polls
// park at once, and stats and publish are refused to a client that is not
// this host however the path is spelled.
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "tests/support/stack.hpp"
#include "tests/support/web_server.hpp"

namespace comet::test {
namespace {

// What a server tells the gateway when its client goes away from a parked
// poll (measured; the configs' comments say the same).
enum class Abort {
  closes_at_once,   // its FastCGI connection is closed at once: the waiter is freed
  waits_until_due,  // a plain close (FIN, what a browser does) is not passed on:
                    // the poll stays parked until its timeout
};

struct Front {
  const char* name;
  std::optional<WebServerKind> kind;  // nullopt: nginx
  Abort abort;
  // Sets FCGI_KEEP_CONN and keeps idle FastCGI connections for later
  // requests (nginx's keepalive pool, Apache's enablereuse=on).
  bool keeps_conn;
};

void PrintTo(const Front& f, std::ostream* os) {
  *os << f.name;
}

// An address that is not 127.0.0.1 and still reaches the loopback servers:
// the "outside" client of the access rules.
constexpr const char* kOutside = "127.0.0.2";

class WebServers : public ::testing::TestWithParam<Front> {
 protected:
  void SetUp() override {
    StackOptions o;
    o.nginx = !GetParam().kind;
    // HTTP publishing open to every address: the web server's rules are the
    // only thing that keeps an outside client from publishing.
    o.gateway_args = {"--publish-allow", "0.0.0.0/0", "--publish-allow", "::/0",
                      // A keep-alive line every second: a server that does not
                      // pass a client's close on notices it when it writes.
                      "--sse-keepalive", "1"};
    stack_ = std::make_unique<Stack>(o);
    if (GetParam().kind) {
      WebServerOptions w;
      w.kind = *GetParam().kind;
      w.dir = stack_->dir().subdir(GetParam().name);
      w.gateway = "127.0.0.1:" + std::to_string(stack_->gateway().tcp_port());
      server_ = std::make_unique<WebServer>(w);
    }
  }

  int port() const { return server_ ? server_->port() : stack_->http_port(); }
  std::string logs() { return stack_->logs() + (server_ ? server_->logs() : std::string()); }

  HttpResponse get(const std::string& path,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30),
                   const std::string& source = {}) {
    return http_request(port(), "GET", path, {}, {}, timeout, source);
  }
  std::unique_ptr<PendingRequest> start_get(const std::string& path) {
    return std::make_unique<PendingRequest>(port(), "GET", path);
  }

  std::unique_ptr<Stack> stack_;
  std::unique_ptr<WebServer> server_;  // declared after stack_: stopped first
};

TEST_P(WebServers, PhpPublishReleasesAParkedPoll) {
  auto parked = start_get("/comet/poll?channel=room&timeout=20");
  ASSERT_TRUE(stack_->wait_parked(1)) << logs();
  stack_->publish("room", "hello");
  auto r = parked->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  EXPECT_EQ(message_bytes(j["messages"][0]), "hello");
}

TEST_P(WebServers, BurstThenCursorsLosesAndRepeatsNothing) {
  constexpr int kCount = 300;
  auto first = start_get("/comet/poll?channel=burst&timeout=20");
  ASSERT_TRUE(stack_->wait_parked(1)) << logs();
  auto php = php_publish_burst(stack_->dir().path(), stack_->redis().port(), "burst", kCount);

  std::vector<int> seen;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  auto r = first->read_response(std::chrono::seconds(20));
  for (;;) {
    ASSERT_TRUE(r) << "a poll was not answered after " << seen.size() << " messages\n" << logs();
    json j = expect_poll_response(*r);
    ASSERT_FALSE(j.contains("gaps")) << r->body;
    for (const auto& m : j["messages"]) seen.push_back(json::parse(message_bytes(m))["seq"]);
    if (static_cast<int>(seen.size()) >= kCount) break;
    ASSERT_LT(Clock::now(), deadline) << "only " << seen.size() << " of " << kCount;
    const std::string cursor = j["cursor"];
    r = get("/comet/poll?channel=burst&timeout=20&since=" + url_encode(cursor),
            std::chrono::seconds(25));
  }
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[i], i) << "lost, repeated or reordered at " << i;
  EXPECT_EQ(php->wait_exit(std::chrono::seconds(30)), 0) << php->output();
}

TEST_P(WebServers, PollTimeoutIsAnsweredInTime) {
  const auto start = Clock::now();
  auto r = get("/comet/poll?channel=quiet&timeout=2", std::chrono::seconds(10));
  const auto took = Clock::now() - start;
  json j = expect_poll_response(r);
  EXPECT_TRUE(j["messages"].empty()) << r.body;
  // timeout * (1 - jitter 0.1) at the earliest; late by no more than 1 s.
  EXPECT_GE(took, std::chrono::milliseconds(1750));
  EXPECT_LE(took, std::chrono::milliseconds(3000));
}

TEST_P(WebServers, AbortedPollIsFreedAsTheServerAllows) {
  if (GetParam().abort == Abort::closes_at_once) {
    auto closed = start_get("/comet/poll?channel=gone&timeout=20");
    auto reset = start_get("/comet/poll?channel=gone&timeout=20");
    ASSERT_TRUE(stack_->wait_parked(2)) << logs();
    closed->close();
    EXPECT_TRUE(stack_->wait_parked(1, std::chrono::seconds(3))) << "still parked\n" << logs();
    reset->close(/*hard=*/true);
    EXPECT_TRUE(stack_->wait_parked(0, std::chrono::seconds(3))) << "still parked\n" << logs();
  } else {
    // Freed by the poll's own timeout, whichever way the client went.
    auto closed = start_get("/comet/poll?channel=gone&timeout=3");
    auto reset = start_get("/comet/poll?channel=gone&timeout=3");
    ASSERT_TRUE(stack_->wait_parked(2)) << logs();
    closed->close();
    EXPECT_FALSE(stack_->wait_parked(0, std::chrono::seconds(1)))
        << "freed at once after a plain close: update Abort and the config's comment";
    reset->close(/*hard=*/true);
    EXPECT_TRUE(stack_->wait_parked(0, std::chrono::seconds(5))) << logs();
  }
  // Whatever held the poll (a worker, a connection) serves the next one.
  expect_poll_response(get("/comet/poll?channel=gone&timeout=0", std::chrono::seconds(10)));
}

TEST_P(WebServers, FastCgiConnectionsAreKeptOrClosedAsTheServerAsks) {
  constexpr int kPolls = 20;
  for (int i = 0; i < kPolls; ++i) {
    expect_poll_response(get("/comet/poll?channel=keep&timeout=0", std::chrono::seconds(10)));
  }
  // The gauge counts the connection that reads it, too.
  auto open = [&] { return stack_->metric("comet_fcgi_connections").value_or(-1) - 1; };
  if (GetParam().keeps_conn) {
    const double kept = open();
    std::cout << GetParam().name << ": " << kept << " FastCGI connections kept after " << kPolls
              << " polls\n";
    EXPECT_GE(kept, 1) << "no connection kept for reuse";
    EXPECT_LT(kept, kPolls) << "a connection per poll: not reused";
  } else {
    EXPECT_TRUE(wait_until([&] { return open() == 0; }, std::chrono::seconds(5)))
        << open() << " FastCGI connections left open\n"
        << logs();
  }
}

TEST_P(WebServers, SseEventsArriveOneByOne) {
  auto stream = start_get("/comet/sse?channel=live");
  ASSERT_TRUE(stack_->wait_parked(1)) << logs();
  ASSERT_TRUE(stream->read_until("retry:", std::chrono::seconds(5))) << stream->raw() << logs();
  // Each event is read before the next is published: a buffering server
  // holds the first and the wait for it times out.
  for (int i = 0; i < 5; ++i) {
    const std::string text = "event-" + std::to_string(i);
    stack_->publish("live", text);
    ASSERT_TRUE(stream->read_until("\"data\":\"" + text + "\"", std::chrono::seconds(5)))
        << "event " << i << " did not arrive on its own\n"
        << stream->raw() << logs();
  }
  // Closed: freed at once, or at the next keep-alive line where the server
  // does not pass the close on (its write fails).
  stream->close();
  EXPECT_TRUE(stack_->wait_parked(0, std::chrono::seconds(5)))
      << "the closed stream stayed parked\n"
      << logs();
}

TEST_P(WebServers, TwoHundredPollsPark) {
  constexpr int kPolls = 200;
  std::vector<std::unique_ptr<PendingRequest>> polls;
  for (int i = 0; i < kPolls; ++i)
    polls.push_back(start_get("/comet/poll?channel=many&timeout=30"));
  ASSERT_TRUE(stack_->wait_parked(kPolls, std::chrono::seconds(20)))
      << stack_->parked() << " parked\n"
      << logs();
  stack_->publish("many", "all");
  for (auto& p : polls) {
    auto r = p->read_response(std::chrono::seconds(10));
    ASSERT_TRUE(r) << logs();
    EXPECT_EQ(message_bytes(expect_poll_response(*r)["messages"][0]), "all");
  }
}

// Every spelling of a path whose last segment is `name` or that a server
// may normalise into one: the gateway routes on the last segment of the
// path it is given.
std::vector<std::string> spellings(const std::string& name) {
  const std::string enc1 = "%" + std::string(name[0] == 's' ? "73" : "70") + name.substr(1);
  const std::string enc2 =
      name.substr(0, 2) + "%" + (name[2] == 'a' ? "61" : "62") + name.substr(3);
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string capital = upper.substr(0, 1) + name.substr(1);
  return {
      "/comet/" + name,          "/comet/x/" + name,        "/comet//" + name,
      "/comet/" + name + "/",    "/comet/./" + name,        "/comet/x/../" + name,
      "/comet/" + enc1,          "/comet/" + enc2,          "/comet/x%2F" + name,
      "/comet/.%2F" + name,      "/comet/x/..%2F" + name,   "/comet/" + name + "/.",
      "/comet/" + name + ";x=1", "/comet/" + name + "%3Bx", "/comet/" + name + "?x=1",
      "/comet/" + upper,         "/comet/" + capital,       "/comet/%2e/" + name,
  };
}

TEST_P(WebServers, StatsAndPublishAreRefusedToOutsideClientsHoweverSpelled) {
  // The rules must do the work: these spellings reach the gateway's stats
  // from this host.
  const std::set<std::string> reach_stats = {"/comet/stats",   "/comet/x/stats",
                                             "/comet/./stats", "/comet/st%61ts",
                                             "/comet/%73tats", "/comet/stats?x=1"};
  for (const auto& path : spellings("stats")) {
    auto inside = get(path, std::chrono::seconds(10));
    const bool is_stats =
        inside.status == 200 && inside.body.find("comet_parked_requests") != std::string::npos;
    if (reach_stats.count(path)) {
      EXPECT_TRUE(is_stats) << path << " from this host: " << inside.status;
    }
    auto outside = get(path, std::chrono::seconds(10), kOutside);
    EXPECT_NE(outside.status, 200) << path;
    EXPECT_EQ(outside.body.find("comet_parked_requests"), std::string::npos)
        << path << " gave the stats to " << kOutside;
    std::cout << GetParam().name << " " << path << ": this host " << inside.status << ", "
              << kOutside << " " << outside.status << "\n";
  }

  // Publishing: a poll parked on the channel is released by the first
  // message that gets through; only this host's may.
  auto parked = start_get("/comet/poll?channel=acl&timeout=30");
  ASSERT_TRUE(stack_->wait_parked(1)) << logs();
  for (const auto& path : spellings("publish")) {
    const std::string url =
        path + (path.find('?') == std::string::npos ? "?" : "&") + "channel=acl";
    auto outside = http_request(port(), "POST", url, {}, "outside " + path,
                                std::chrono::seconds(10), kOutside);
    EXPECT_NE(outside.status / 100, 2)
        << url << " published for " << kOutside << ": " << outside.body;
    std::cout << GetParam().name << " POST " << url << ": " << kOutside << " " << outside.status
              << "\n";
  }
  auto inside = http_request(port(), "POST", "/comet/x/publish?channel=acl", {}, "inside");
  EXPECT_EQ(inside.status / 100, 2) << inside.status << " " << inside.body;
  auto r = parked->read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << logs();
  json j = expect_poll_response(*r);
  ASSERT_EQ(j["messages"].size(), 1u) << r->body;
  EXPECT_EQ(message_bytes(j["messages"][0]), "inside");
}

INSTANTIATE_TEST_SUITE_P(
    , WebServers,
    ::testing::Values(Front{"nginx", std::nullopt, Abort::closes_at_once, true},
                      Front{"apache", WebServerKind::apache, Abort::waits_until_due, true},
                      Front{"lighttpd", WebServerKind::lighttpd, Abort::waits_until_due, false},
                      Front{"caddy", WebServerKind::caddy, Abort::waits_until_due, false}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace comet::test
