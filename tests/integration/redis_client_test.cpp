// RedisClient against a real redis-server started on a free loopback
// port (or a Unix socket) by each test and killed by pid at its end.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/redis/redis_client.hpp"
#include "tests/support/fake_redis.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace comet {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

int free_port() {
  return test::free_tcp_port();
}

// A redis-server for one test (tests/support), started and killed again
// within the test, and PUBLISH through it.
class RedisServer {
 public:
  // Listens on 127.0.0.1:port, or only on `unix_path` when that is given.
  RedisServer(int port, std::string password = "", std::string unix_path = "")
      : port_(port), password_(std::move(password)), unix_path_(std::move(unix_path)) {}

  bool start() {
    server_.reset();
    try {
      server_.emplace(dir_.path(), port_, test::RedisServerOptions{{}, password_, unix_path_});
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      return false;
    }
    return true;
  }

  void kill9() {
    if (server_) server_->kill9();
    server_.reset();
  }
  void signal(int sig) { server_->process().signal(sig); }

  // PUBLISH through a plain synchronous hiredis client; %b keeps it binary-safe.
  long long publish(std::string_view channel, std::string_view payload) {
    redisContext* c = unix_path_.empty() ? redisConnect("127.0.0.1", port_)
                                         : redisConnectUnix(unix_path_.c_str());
    long long n = -1;
    if (c != nullptr && c->err == 0) {
      bool authed = true;
      if (!password_.empty()) {
        auto* r = static_cast<redisReply*>(
            redisCommand(c, "AUTH %b", password_.data(), password_.size()));
        authed = r != nullptr && r->type != REDIS_REPLY_ERROR;
        if (r != nullptr) freeReplyObject(r);
      }
      auto* r = authed ? static_cast<redisReply*>(redisCommand(c, "PUBLISH %b %b", channel.data(),
                                                               channel.size(), payload.data(),
                                                               payload.size()))
                       : nullptr;
      if (r != nullptr && r->type == REDIS_REPLY_INTEGER) n = r->integer;
      if (r != nullptr) freeReplyObject(r);
    }
    if (c != nullptr) redisFree(c);
    return n;
  }

  int port() const { return port_; }

 private:
  int port_;
  std::string password_;
  std::string unix_path_;
  test::TempDir dir_;
  std::optional<test::RedisServer> server_;
};

// Runs the loop until `done` or the deadline; a failing test never hangs.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  while (!done()) {
    if (steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(20ms) == 0 && io.stopped()) std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs the loop until a sync() barrier has come back: every message
// published before the call has then been delivered (or dropped). False
// when the barrier was refused until `limit` or failed.
bool barrier(boost::asio::io_context& io, RedisClient& client, milliseconds limit = 5s) {
  // Shared: a barrier still out when this returns may complete later.
  auto result = std::make_shared<std::optional<bool>>();
  bool asked = run_until(
      io, [&] { return client.sync([result](bool ok) { *result = ok; }); }, limit);
  return asked &&
         run_until(
             io, [&] { return result->has_value(); }, limit) &&
         **result;
}

// Runs the loop until it has nothing left to do (every handler run, no
// timer or socket pending): false if work is still there after `limit`.
bool run_dry(boost::asio::io_context& io, milliseconds limit = 5s) {
  io.restart();
  io.run_for(limit);
  return io.stopped();
}

// The log lines of the clients given its logger(), readable at any moment:
// tests wait for the log line of an event instead of sleeping. Each line is
// passed on to stderr too.
class LogRecorder {
 public:
  LogRecorder()
      : logger_(LogLevel::info, [this](std::string_view line) {
          text_.append(line);
          [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
        }) {}
  LogRecorder(const LogRecorder&) = delete;
  LogRecorder& operator=(const LogRecorder&) = delete;

  const Logger& logger() const { return logger_; }
  const std::string& text() const { return text_; }
  int count(std::string_view needle) const {
    int n = 0;
    for (auto at = text_.find(needle); at != std::string::npos; at = text_.find(needle, at + 1))
      ++n;
    return n;
  }

 private:
  std::string text_;
  Logger logger_;
};

// For the tests that read no log line.
const Logger kLog;

// Records every callback, in order, as a compact event list:
// "m:<channel>", "burst", "up", "resumed", "down".
struct Recorder {
  std::vector<std::pair<std::string, std::string>> messages;
  std::vector<std::string> events;
  int count(const std::string& e) const {
    int n = 0;
    for (auto& x : events) n += x == e;
    return n;
  }
  RedisClientCallbacks callbacks() {
    RedisClientCallbacks cb;
    cb.on_message = [this](std::string_view ch, std::string_view payload, const StreamId*) {
      messages.emplace_back(std::string(ch), std::string(payload));
      events.push_back("m:" + std::string(ch));
    };
    cb.on_burst_end = [this] { events.push_back("burst"); };
    cb.on_subscribed = [this](bool resumed) { events.push_back(resumed ? "resumed" : "up"); };
    cb.on_down = [this] { events.push_back("down"); };
    return cb;
  }
};

RedisClientOptions fast_options(const std::string& url) {
  RedisClientOptions o;
  o.url = parse_redis_url(url);
  o.prefix = "comet:";
  o.connect_timeout = 1000ms;
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  o.heartbeat_interval = 200ms;
  return o;
}

std::string tcp_url(int port) {
  return "redis://127.0.0.1:" + std::to_string(port);
}

TEST(RedisClient, DeliversUtf8BinaryAndLargeMessagesByteForByte) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  Recorder rec;
  RedisClient sub(io, fast_options(tcp_url(server.port())), rec.callbacks(), kLog);
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));
  EXPECT_TRUE(sub.up());

  const std::string utf8 = "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x9A\x80";
  const std::string binary("\0\x01\xff\r\n\x80zz\0", 9);
  std::string big(1024 * 1024 + 17, '\0');
  std::mt19937 rng(42);
  for (char& c : big) c = static_cast<char>(rng());

  EXPECT_EQ(server.publish("other:chat.1", "not ours"), 0);
  EXPECT_EQ(server.publish("comet", "no colon: not ours"), 0);
  EXPECT_EQ(server.publish("comet:chat.1", utf8), 1);
  EXPECT_EQ(server.publish("comet:bin", binary), 1);
  EXPECT_EQ(server.publish("comet:big", big), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.messages.size() >= 3; }, 5s));
  // A heartbeat on the subscription, then a barrier: by then the heartbeat
  // (and the barrier's own marker) have been received, and neither may
  // have been passed on.
  EXPECT_EQ(server.publish("comet:#heartbeat", ""), 1);
  ASSERT_TRUE(barrier(io, sub));

  ASSERT_EQ(rec.messages.size(), 3u);
  EXPECT_EQ(rec.messages[0], std::make_pair(std::string("chat.1"), utf8));
  EXPECT_EQ(rec.messages[1].first, "bin");
  EXPECT_EQ(rec.messages[1].second, binary);
  EXPECT_EQ(rec.messages[2].first, "big");
  EXPECT_TRUE(rec.messages[2].second == big) << "1 MiB payload differs";

  // Every burst end follows at least one message, and the last message is
  // followed by one.
  ASSERT_FALSE(rec.events.empty());
  EXPECT_EQ(rec.events.back(), "burst");
  bool since_burst = false;
  for (auto& e : rec.events) {
    if (e.starts_with("m:")) since_burst = true;
    if (e == "burst") {
      EXPECT_TRUE(since_burst) << "burst end without a message";
      since_burst = false;
    }
  }
  EXPECT_EQ(rec.count("down"), 0);
  sub.stop();
}

TEST(RedisClient, HeartbeatKeepsAQuietSubscriptionUp) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  Recorder rec;
  RedisClient sub(io, fast_options(tcp_url(server.port())), rec.callbacks(), kLog);
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));
  // More than twice the 600 ms silence limit, with no user traffic at all:
  // the time passing is what this test is about, not a wait for an event
  // (Liveness' unit tests cover the rule itself).
  run_until(
      io, [&] { return rec.count("down") > 0; }, 1500ms);  // ends early only on a loss
  EXPECT_TRUE(sub.up());
  EXPECT_EQ(rec.count("down"), 0);
  EXPECT_TRUE(rec.messages.empty());
  EXPECT_EQ(sub.reconnects(), 0u);
  // Still delivering, not merely "up".
  EXPECT_TRUE(barrier(io, sub));
}

TEST(RedisClient, ResubscribesAfterRedisIsKilledAndRestarted) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  LogRecorder log;
  boost::asio::io_context io;
  Recorder rec;
  RedisClient sub(io, fast_options(tcp_url(server.port())), rec.callbacks(), log.logger());
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));

  server.kill9();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("down") == 1; }, 5s));
  EXPECT_FALSE(sub.up());
  // A few failed attempts while it is down.
  EXPECT_TRUE(run_until(
      io, [&] { return log.count("redis: connect to ") >= 3; }, 5s));
  EXPECT_EQ(rec.count("down"), 1) << "on_down only when the subscription was up";

  ASSERT_TRUE(server.start());  // same port
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("resumed") == 1; }, 5s));
  EXPECT_TRUE(sub.up());
  EXPECT_EQ(sub.reconnects(), 1u);
  EXPECT_EQ(server.publish("comet:after", "back"), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.messages.empty(); }, 5s));
  EXPECT_EQ(rec.messages[0], std::make_pair(std::string("after"), std::string("back")));
  std::vector<std::string> lifecycle;
  for (auto& e : rec.events) {
    if (e == "up" || e == "down" || e == "resumed") lifecycle.push_back(e);
  }
  EXPECT_EQ(lifecycle, (std::vector<std::string>{"up", "down", "resumed"}));
}

// SIGSTOP freezes redis with its sockets open: the half-open case that only
// the heartbeat watchdog can detect.
TEST(RedisClient, SilentSubscriptionIsTakenForDeadAndResumed) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  LogRecorder log;
  boost::asio::io_context io;
  Recorder rec;
  RedisClient sub(io, fast_options(tcp_url(server.port())), rec.callbacks(), log.logger());
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));

  server.signal(SIGSTOP);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("down") == 1; }, 5s));
  // Taken down by the watchdog, not by a socket error (when is Liveness'
  // unit tests' business).
  EXPECT_EQ(log.count("subscription lost (nothing heard for"), 1) << log.text();
  server.signal(SIGCONT);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("resumed") == 1; }, 5s));
  EXPECT_EQ(sub.reconnects(), 1u);
  EXPECT_GE(server.publish("comet:x", "y"), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.messages.empty(); }, 5s));
}

TEST(RedisClient, StopWithRedisDownReturnsAndNothingRunsAfterwards) {
  int port = free_port();  // nobody listens here
  LogRecorder log;
  boost::asio::io_context io;
  Recorder rec;
  auto sub =
      std::make_unique<RedisClient>(io, fast_options(tcp_url(port)), rec.callbacks(), log.logger());
  sub->start();
  // A few failed attempts of each connection, retry timers armed.
  EXPECT_TRUE(run_until(
      io,
      [&] {
        return log.count("redis: connect to ") >= 2 && log.count("command connection to ") >= 2;
      },
      5s));
  EXPECT_FALSE(sub->up());
  EXPECT_TRUE(rec.events.empty()) << "never up: no on_down";
  sub->stop();
  // No work may be left behind: what stop() cancelled is ready at once, so
  // running only what is ready leaves the loop out of work.
  io.restart();
  io.poll();
  EXPECT_TRUE(io.stopped());
  sub.reset();
  EXPECT_TRUE(rec.events.empty());
}

TEST(RedisClient, StopFromInsideOnMessageEndsDelivery) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  Recorder rec;
  RedisClient* self = nullptr;
  RedisClientCallbacks cb = rec.callbacks();
  cb.on_message = [&](std::string_view ch, std::string_view, const StreamId*) {
    rec.events.push_back("m:" + std::string(ch));
    self->stop();
  };
  RedisClient sub(io, fast_options(tcp_url(server.port())), cb, kLog);
  self = &sub;
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));
  // Pipelined, so both messages most likely land in one read burst.
  redisContext* c = redisConnect("127.0.0.1", server.port());
  ASSERT_TRUE(c != nullptr && c->err == 0);
  redisAppendCommand(c, "PUBLISH comet:a 1");
  redisAppendCommand(c, "PUBLISH comet:b 2");
  for (int i = 0; i < 2; ++i) {
    void* r = nullptr;
    ASSERT_EQ(redisGetReply(c, &r), REDIS_OK);
    freeReplyObject(r);
  }
  redisFree(c);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("m:a") == 1; }, 5s));
  // Stopped: everything still queued runs, and the loop runs dry.
  EXPECT_TRUE(run_dry(io));
  EXPECT_FALSE(sub.up());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"up", "m:a"}));
}

// An exception from the owner's handler must not unwind through hiredis:
// it ends the connection as a broken one would, and the client comes back.
TEST(RedisClient, AThrowingHandlerEndsTheConnectionNotTheProcess) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  LogRecorder log;
  boost::asio::io_context io;
  Recorder rec;
  RedisClientCallbacks cb = rec.callbacks();
  cb.on_message = [&](std::string_view ch, std::string_view payload, const StreamId*) {
    rec.messages.emplace_back(std::string(ch), std::string(payload));
    if (payload == "throw") throw std::runtime_error("boom");
  };
  RedisClient sub(io, fast_options(tcp_url(server.port())), cb, log.logger());
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));
  EXPECT_EQ(server.publish("comet:t", "throw"), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("resumed") == 1; }, 5s));
  EXPECT_EQ(rec.count("down"), 1);
  EXPECT_EQ(log.count("a reply handler failed (boom)"), 2) << log.text();  // the error, the loss
  EXPECT_EQ(server.publish("comet:t", "after"), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.messages.size() == 2; }, 5s));
  EXPECT_EQ(rec.messages[1].second, "after");
}

// A reply that no command asked for (a buggy server, a proxy, a push of a
// newer protocol) ends that connection, logged with what it was, and the
// client reconnects; hiredis 0.14's own dispatch asserted, ending the process.
TEST(RedisClient, AnUnsolicitedReplyEndsTheConnectionNotTheProcess) {
  test::FakeRedis redis;
  LogRecorder log;
  boost::asio::io_context io;
  Recorder rec;
  RedisClient client(io, fast_options(redis.url()), rec.callbacks(), log.logger());
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1 && redis.commands("PUBLISH") >= 1; }, 5s));

  // The subscriber: an array of one element (hiredis asserted two at least).
  ASSERT_EQ(redis.send_to_subscribers("*1\r\n$6\r\nsecret\r\n"), 1u);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("resumed") == 1; }, 5s));
  EXPECT_EQ(rec.count("down"), 1);
  // The close, then the loss.
  EXPECT_EQ(log.count("(a pub/sub frame of an unknown kind, an array of 1 element)"), 2)
      << log.text();

  // The command connection: a reply with nothing waiting (hiredis asserted
  // that the connection was subscribed). A heartbeat may be in flight: then
  // its own answer is the one left over.
  const std::size_t accepted = redis.connections_accepted();
  ASSERT_EQ(redis.send_to_command_connections("+secret\r\n"), 1u);
  ASSERT_TRUE(run_until(
      io,
      [&] {
        return log.count(": a reply with no command waiting (") == 1 &&
               redis.connections_accepted() > accepted;
      },
      5s))
      << log.text();
  EXPECT_EQ(log.count("secret"), 0) << "described, not quoted";

  // Both links work again.
  ASSERT_TRUE(barrier(io, client));
  EXPECT_EQ(redis.publish("comet:t", "after"), 1u);
  ASSERT_TRUE(run_until(
      io, [&] { return !rec.messages.empty(); }, 5s));
  EXPECT_EQ(rec.messages.back().second, "after");
  client.stop();
}

TEST(RedisClient, DestroyedInAnyState) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  Recorder rec;
  { RedisClient never_started(io, fast_options(tcp_url(server.port())), rec.callbacks(), kLog); }
  {
    RedisClient connecting(io, fast_options(tcp_url(server.port())), rec.callbacks(), kLog);
    connecting.start();
  }
  {
    RedisClient subscribed(io, fast_options(tcp_url(server.port())), rec.callbacks(), kLog);
    subscribed.start();
    ASSERT_TRUE(run_until(
        io, [&] { return rec.count("up") == 1; }, 5s));
    subscribed.stop();
    subscribed.stop();  // idempotent
  }
  io.restart();
  io.run_for(2s);
  EXPECT_TRUE(io.stopped());
  EXPECT_EQ(rec.events, (std::vector<std::string>{"up"}));
}

TEST(RedisClient, AuthenticatesWithPercentEncodedPasswordAndNeverLogsIt) {
  const std::string password = "p@ss:w/rd%";
  RedisServer server(free_port(), password);
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  std::optional<LogRecorder> tap(std::in_place);
  {
    Recorder rec;
    RedisClient sub(
        io, fast_options("redis://:wrongpass123@127.0.0.1:" + std::to_string(server.port())),
        rec.callbacks(), tap->logger());
    sub.start();
    // Refused, and refused again on the next attempt: never up.
    EXPECT_TRUE(run_until(
        io, [&] { return tap->count("AUTH refused") >= 3; }, 5s));
    EXPECT_EQ(rec.count("up"), 0);
  }
  Recorder rec;
  RedisClient sub(
      io,
      fast_options("redis://:p%40ss%3Aw%2Frd%25@127.0.0.1:" + std::to_string(server.port()) + "/2"),
      rec.callbacks(), tap->logger());
  sub.start();
  bool up = run_until(
      io, [&] { return rec.count("up") == 1; }, 5s);
  EXPECT_EQ(server.publish("comet:secure", "ok"), 1);
  bool got = run_until(
      io, [&] { return rec.messages.size() == 1; }, 5s);
  sub.stop();
  const std::string log = tap->text();
  EXPECT_TRUE(up);
  EXPECT_TRUE(got);
  EXPECT_NE(log.find("AUTH refused"), std::string::npos) << log;
  EXPECT_NE(log.find("info redis: subscribed to comet:* on redis://:***@127.0.0.1:"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("wrongpass123"), std::string::npos) << log;
  EXPECT_EQ(log.find("p@ss"), std::string::npos) << log;
  EXPECT_EQ(log.find("p%40ss"), std::string::npos) << log;
}

// A host name goes through Asio's resolver, not hiredis's blocking lookup.
TEST(RedisClient, ResolvesAHostName) {
  RedisServer server(free_port());
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  Recorder rec;
  RedisClient sub(io, fast_options("redis://localhost:" + std::to_string(server.port())),
                  rec.callbacks(), kLog);
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));
  EXPECT_EQ(server.publish("comet:named", "x"), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.messages.size() == 1; }, 5s));
}

TEST(RedisClient, SubscribesOverAUnixSocket) {
  std::string path = "/tmp/comet-redis-test-" + std::to_string(::getpid()) + ".sock";
  RedisServer server(0, "", path);
  ASSERT_TRUE(server.start());
  boost::asio::io_context io;
  Recorder rec;
  RedisClient sub(io, fast_options("unix:" + path + "?db=3"), rec.callbacks(), kLog);
  sub.start();
  ASSERT_TRUE(run_until(
      io, [&] { return rec.count("up") == 1; }, 5s));
  EXPECT_EQ(server.publish("comet:u", "over unix"), 1);
  ASSERT_TRUE(run_until(
      io, [&] { return rec.messages.size() == 1; }, 5s));
  EXPECT_EQ(rec.messages[0], std::make_pair(std::string("u"), std::string("over unix")));
  // The command connection (with SELECT 3) publishes too: a barrier's
  // marker goes out on it and comes back on the subscription.
  EXPECT_TRUE(barrier(io, sub));
  EXPECT_TRUE(sub.up());
  sub.stop();
  server.kill9();
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace comet
