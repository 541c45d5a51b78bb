// Presence channels end to end: gateways started with --presence and a
// token secret, users named by tokens from the site's PHP (Comet::token with
// a user), clients following their cursors. Members are kept in Redis
// (deploy/redis/comet_presence.lua), so every gateway sees the same ones;
// joins and leaves come to every client once, in the stream, and a user
// with several clients leaves when the last has gone, after the grace.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/stack.hpp"
#include "tests/support/webhook_receiver.hpp"

namespace comet::test {
namespace {

constexpr const char* kSecret = "an-example-secret-of-some-length";
constexpr const char* kChannel = "lobby.1";

std::string php(Stack& stack, const std::string& code) {
  const std::string full =
      "require '" + std::string(COMET_SOURCE_DIR) + "/clients/php/Comet.php'; " + code;
  auto r = run({"php", "-r", full}, stack.dir().path(), std::chrono::seconds(30));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  return r.out;
}

std::string token(Stack& stack, const std::string& user, const std::string& info_php = "") {
  return php(stack, "echo Comet::token('" + std::string(kSecret) + "', ['lobby.*', 'news'], 600, " +
                        "['user' => '" + user + "'" +
                        (info_php.empty() ? "" : ", 'info' => " + info_php) + "]);");
}

// Members as Comet::presence returns them, as "user" strings in order.
std::vector<std::string> php_members(Stack& stack) {
  auto out = php(stack, "$r = new Redis(); $r->connect('127.0.0.1', " +
                            std::to_string(stack.redis().port()) +
                            "); echo json_encode(Comet::presence($r, '" + kChannel + "'));");
  std::vector<std::string> users;
  for (const auto& m : json::parse(out)) users.push_back(m["user"]);
  return users;
}

StackOptions options(int gateways) {
  StackOptions o;
  o.gateways = gateways;
  o.gateway_args = {"--token-secret", kSecret, "--presence", "lobby.*", "--presence-grace", "1"};
  return o;
}

constexpr const char* kWebhookSecret = "a-webhook-secret-of-some-length";

// The site's webhook endpoint (PHP, verifying with Comet::verifyWebhook)
// behind the stack's nginx, on a server of its own; the gateways POST to it.
struct Site {
  TempDir dir;
  WebhookReceiver receiver{dir.path(), kWebhookSecret};
  int port = free_tcp_port();

  void add_to(StackOptions& o, const std::string& delay) const {
    const auto backend = receiver.url();  // http://127.0.0.1:PORT/hook
    o.nginx_servers = "server { listen 127.0.0.1:" + std::to_string(port) +
                      "; location /hook { proxy_pass " + backend.substr(0, backend.find("/hook")) +
                      "; } }";
    const std::vector<std::string> args{
        "--webhook",        "http://127.0.0.1:" + std::to_string(port) + "/hook",
        "--webhook-secret", kWebhookSecret,
        "--webhook-delay",  delay};
    o.gateway_args.insert(o.gateway_args.end(), args.begin(), args.end());
  }
  // "channel_occupied", "member_added:ann", ... in the order received, from
  // the verified requests (any other is a failure).
  std::vector<std::string> events() const {
    std::vector<std::string> out;
    for (const auto& r : receiver.requests()) {
      EXPECT_TRUE(r["verified"].get<bool>()) << r.dump();
      const json body = json::parse(r["body"].get<std::string>());
      for (const auto& e : body["events"]) {
        std::string name = e["name"];
        EXPECT_EQ(e["channel"], kChannel);
        if (e.contains("user_id")) name += ":" + e["user_id"].get<std::string>();
        out.push_back(name);
      }
    }
    return out;
  }
  bool wait_for(const std::string& e, std::chrono::milliseconds timeout = 15s) const {
    return wait_until(
        [&] {
          auto all = events();
          return std::find(all.begin(), all.end(), e) != all.end();
        },
        timeout, 50ms);
  }
};

// One client of one user: polls with its cursor until stopped, through nginx
// (round robin over the gateways) or one gateway directly, and keeps every
// presence entry it gets. The first poll has no cursor: its answer starts
// with the member list.
class Follower {
 public:
  Follower(Stack& stack, std::string token, Gateway* direct = nullptr)
      : stack_(stack), token_(std::move(token)), direct_(direct) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Follower() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // "here:a,b", "join:a", "leave:a", in the order received.
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  long count(const std::string& e) {
    auto all = events();
    return std::count(all.begin(), all.end(), e);
  }
  bool wait_for(const std::string& e, std::chrono::milliseconds timeout = 10s) {
    return wait_until([&] { return count(e) > 0; }, timeout);
  }
  // The members as this client knows them: its last list, then the joins
  // and leaves after it.
  std::set<std::string> members() {
    std::set<std::string> m;
    for (const auto& e : events()) {
      if (e.starts_with("here:")) {
        m.clear();
        std::stringstream list(e.substr(5));
        for (std::string u; std::getline(list, u, ',');) m.insert(u);
      } else if (e.starts_with("join:")) {
        m.insert(e.substr(5));
      } else if (e.starts_with("leave:")) {
        m.erase(e.substr(6));
      }
    }
    return m;
  }
  std::vector<int> statuses() {
    std::lock_guard lock(mu_);
    return statuses_;
  }

 private:
  void loop() {
    std::string cursor;
    while (!stop_) {
      std::string q = "channel=" + std::string(kChannel) + "&timeout=1&token=" + url_encode(token_);
      if (!cursor.empty()) q += "&since=" + url_encode(cursor);
      HttpResponse r;
      try {
        r = direct_ ? direct_->request("GET", "poll", q, {}, 10s)
                    : stack_.get("/comet/poll?" + q, {}, 10s);
      } catch (const std::exception&) {
        r.status = 0;  // its gateway went away mid-request
      }
      {
        std::lock_guard lock(mu_);
        statuses_.push_back(r.status);
      }
      if (r.status != 200) {
        if (direct_) return;  // its gateway is gone: this client is gone too
        // A client's backoff before it retries (503 while Redis is away).
        std::this_thread::sleep_for(100ms);
        continue;
      }
      auto j = json::parse(r.body);
      cursor = j["cursor"];
      std::lock_guard lock(mu_);
      for (const auto& m : j["messages"]) {
        if (!m.contains("presence")) continue;
        const std::string kind = m["presence"];
        if (kind == "here") {
          std::string list;
          for (const auto& member : m["members"]) {
            list += (list.empty() ? "" : ",") + member["user"].get<std::string>();
          }
          events_.push_back("here:" + list);
        } else {
          events_.push_back(kind + ":" + m["user"].get<std::string>());
        }
      }
    }
  }

  Stack& stack_;
  std::string token_;
  Gateway* direct_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> events_;
  std::vector<int> statuses_;
  std::thread thread_;
};

// Two gateways behind nginx, users with one and with two clients: every
// client hears each join and each leave once, whichever gateway its polls
// land on; a user's second client causes no join, and its first client's
// end no leave; the last client's end is a leave after the grace.
TEST(Presence, OneJoinAndOneLeavePerUserAcrossTwoGateways) {
  Stack stack(options(2));
  const std::string ann = token(stack, "ann", "['name' => 'Ann']");
  const std::string bob = token(stack, "bob");

  Follower ann1(stack, ann);
  ASSERT_TRUE(ann1.wait_for("here:")) << stack.logs();
  ASSERT_TRUE(ann1.wait_for("join:ann")) << stack.logs();
  Follower bob1(stack, bob);
  ASSERT_TRUE(bob1.wait_for("here:ann")) << stack.logs();
  ASSERT_TRUE(ann1.wait_for("join:bob")) << stack.logs();
  ASSERT_TRUE(bob1.wait_for("join:bob")) << stack.logs();
  Follower bob2(stack, bob);
  ASSERT_TRUE(bob2.wait_for("here:ann,bob")) << stack.logs();
  EXPECT_EQ(php_members(stack), (std::vector<std::string>{"ann", "bob"}));
  // Each gateway has held both users (round robin) and keeps the one list.
  for (std::size_t g = 0; g < stack.gateways(); ++g) {
    auto stats = stack.gateway(g).request("GET", "stats", "", {}, 5s);
    EXPECT_EQ(parse_metric(stats.body, "comet_presence_lists"), 1.0) << stats.body;
    EXPECT_GE(parse_metric(stats.body, "comet_presence_users").value_or(0), 1.0) << stats.body;
  }

  // Bob's first client goes; his second keeps him a member.
  bob1.stop();
  // Ann's client stays, with an eye on it: after several graces, no leave.
  const auto t0 = Clock::now();
  EXPECT_FALSE(ann1.wait_for("leave:bob", 3s));
  bob2.stop();
  ASSERT_TRUE(ann1.wait_for("leave:bob")) << stack.logs();
  EXPECT_GE(Clock::now() - t0, 3s);
  EXPECT_EQ(php_members(stack), (std::vector<std::string>{"ann"}));

  ann1.stop();
  EXPECT_EQ(ann1.count("join:ann"), 1);
  EXPECT_EQ(ann1.count("join:bob"), 1);
  EXPECT_EQ(ann1.count("leave:bob"), 1);
  EXPECT_EQ(ann1.count("leave:ann"), 0);
  EXPECT_TRUE(wait_until([&] { return php_members(stack).empty(); }, 10s)) << stack.logs();
}

// Webhooks to the PHP app behind nginx, from two gateways: exactly one event
// per change; a member that leaves and is back within --webhook-delay
// causes none (its clients still saw the leave and the join).
TEST(Presence, WebhooksTellThePhpAppEachChangeOnce) {
  Site site;
  auto o = options(2);
  site.add_to(o, "3");
  Stack stack(o);
  const std::string ann = token(stack, "ann");
  Follower obs(stack, token(stack, "obs"));
  ASSERT_TRUE(site.wait_for("member_added:obs")) << stack.logs();
  auto ann1 = std::make_unique<Follower>(stack, ann);
  ASSERT_TRUE(obs.wait_for("join:ann")) << stack.logs();
  ann1.reset();
  ASSERT_TRUE(obs.wait_for("leave:ann")) << stack.logs();
  Follower ann2(stack, ann);  // back in time
  ASSERT_TRUE(wait_until([&] { return obs.count("join:ann") == 2; }, 10s)) << stack.logs();
  ann2.stop();
  ASSERT_TRUE(site.wait_for("member_removed:ann")) << stack.logs();
  obs.stop();
  ASSERT_TRUE(site.wait_for("channel_vacated")) << stack.logs();
  EXPECT_EQ(site.events(), (std::vector<std::string>{"channel_occupied", "member_added:obs",
                                                     "member_added:ann", "member_removed:ann",
                                                     "member_removed:obs", "channel_vacated"}));
}

// On a Redis Cluster: the functions are loaded on every master, a channel's
// keys live in its slot, and the joins and leaves (PUBLISHed by a function
// on that slot's master) reach both gateways.
TEST(Presence, OnARedisCluster) {
  auto o = options(2);
  o.cluster_masters = 3;
  Stack stack(o);
  Follower ann(stack, token(stack, "ann"));
  ASSERT_TRUE(ann.wait_for("join:ann")) << stack.logs();
  auto bob = std::make_unique<Follower>(stack, token(stack, "bob"));
  ASSERT_TRUE(bob->wait_for("here:ann")) << stack.logs();
  ASSERT_TRUE(ann.wait_for("join:bob")) << stack.logs();
  bob.reset();
  ASSERT_TRUE(ann.wait_for("leave:bob")) << stack.logs();
  ann.stop();
  EXPECT_EQ(ann.count("join:bob"), 1);
  EXPECT_EQ(ann.count("leave:bob"), 1);
}

// A gateway killed with kill -9: its users' members leave once, after the
// grace, announced by the survivor (which never held them).
TEST(Presence, KilledGatewaysUsersLeaveOnceAfterTheGrace) {
  Site site;
  auto o = options(2);
  site.add_to(o, "0.5");
  Stack stack(o);
  Follower watcher(stack, token(stack, "ann"), &stack.gateway(0));
  ASSERT_TRUE(watcher.wait_for("join:ann")) << stack.logs();
  Follower doomed(stack, token(stack, "cat"), &stack.gateway(1));
  ASSERT_TRUE(watcher.wait_for("join:cat")) << stack.logs();
  // (What a gateway killed with kill -9 had not sent yet is lost with it.)
  ASSERT_TRUE(site.wait_for("member_added:cat")) << stack.logs();
  stack.kill9_gateway(1);
  const auto killed = Clock::now();
  doomed.stop();
  ASSERT_TRUE(watcher.wait_for("leave:cat")) << stack.logs();
  // Its last refresh (at most a third of the grace before the kill) kept it
  // a member for a grace.
  EXPECT_GE(Clock::now() - killed, 600ms);
  // Once: no second leave (the sweeps of both gateways race in Redis and
  // one wins), and ann stays.
  EXPECT_FALSE(watcher.wait_for("leave:ann", 2s));
  watcher.stop();
  EXPECT_EQ(watcher.count("leave:cat"), 1);
  EXPECT_EQ(php_members(stack), (std::vector<std::string>{"ann"}));
  // And the site hears of it once, from the survivor.
  ASSERT_TRUE(site.wait_for("member_removed:cat")) << stack.logs();
  auto all = site.events();
  EXPECT_EQ(std::count(all.begin(), all.end(), "member_removed:cat"), 1);
  EXPECT_EQ(std::count(all.begin(), all.end(), "member_added:cat"), 1);
}

// Redis restarted without persistence: the gateway re-adds the users it
// holds. Clients see their list again after the gap, and no member leaves.
TEST(Presence, RedisRestartRebuildsTheMembersWithoutLeaves) {
  Site site;
  auto o = options(1);
  site.add_to(o, "0.5");
  Stack stack(o);
  Follower ann(stack, token(stack, "ann"));
  Follower bob(stack, token(stack, "bob"));
  ASSERT_TRUE(ann.wait_for("join:bob")) << stack.logs();
  ASSERT_TRUE(site.wait_for("member_added:bob")) << stack.logs();
  const auto lists_before = ann.events().size();
  stack.redis().kill9();
  stack.redis().restart();
  ASSERT_TRUE(wait_until([&] { return php_members(stack).size() == 2; }, 15s)) << stack.logs();
  // After the gap, a fresh list, then the joins of what the gateway
  // re-adds: both again, and no leave at any point.
  auto lists_after = [&] {
    auto all = ann.events();
    return std::count_if(all.begin() + static_cast<long>(lists_before), all.end(),
                         [](const std::string& e) { return e.starts_with("here:"); });
  };
  ASSERT_TRUE(wait_until(
      [&] {
        return lists_after() > 0 && ann.members() == std::set<std::string>{"ann", "bob"};
      },
      15s))
      << ::testing::PrintToString(ann.events()) << ::testing::PrintToString(ann.statuses());
  ann.stop();
  bob.stop();
  EXPECT_EQ(ann.count("leave:ann") + ann.count("leave:bob"), 0);
  // The site was told nothing more: nobody came or went.
  auto told = site.events();
  std::sort(told.begin(), told.end());
  EXPECT_EQ(told,
            (std::vector<std::string>{"channel_occupied", "member_added:ann", "member_added:bob"}));
}

// Bad input is answered clearly, and the members' polls go on undisturbed.
TEST(Presence, BadInputIsRefusedAndDisturbsNobody) {
  Stack stack(options(1));
  Follower ann(stack, token(stack, "ann"));
  ASSERT_TRUE(ann.wait_for("join:ann")) << stack.logs();

  // A token without a user.
  const std::string anonymous =
      php(stack, "echo Comet::token('" + std::string(kSecret) + "', ['lobby.*'], 600);");
  auto r = stack.get("/comet/poll?timeout=0&channel=lobby.1&token=" + url_encode(anonymous));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["error"], "user_required");
  // The same token is fine on a channel that is not a presence channel.
  r = stack.get("/comet/poll?timeout=0&channel=lobby2&token=" +
                url_encode(php(
                    stack, "echo Comet::token('" + std::string(kSecret) + "', ['lobby2'], 600);")));
  EXPECT_EQ(r.status, 200) << r.body;
  // SSE too.
  r = stack.get("/comet/sse?channel=lobby.1&token=" + url_encode(anonymous));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["error"], "user_required");
  // A forged token naming a user.
  std::string forged = token(stack, "eve");
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  r = stack.get("/comet/poll?timeout=0&channel=lobby.1&token=" + url_encode(forged));
  EXPECT_EQ(r.status, 403);
  // Info past 1 KB is refused where the token is made.
  auto big =
      run({"php", "-r",
           "require '" + std::string(COMET_SOURCE_DIR) +
               "/clients/php/Comet.php'; try { Comet::token('" + kSecret +
               "', ['lobby.*'], 600, ['user' => 'x', 'info' => ['n' => "
               "str_repeat('a', 2000)]]); } catch (InvalidArgumentException $e) { exit(3); }"},
          stack.dir().path(), 30s);
  EXPECT_EQ(big.status, 3) << big.out << big.err;

  // Nobody else joined or left; ann's polls all succeeded.
  ann.stop();
  EXPECT_EQ(ann.events(), (std::vector<std::string>{"here:", "join:ann"}));
  for (int s : ann.statuses()) EXPECT_EQ(s, 200);
}

// An SSE stream on a presence channel starts with the members, then gets
// the joins.
TEST(Presence, SseStreamStartsWithTheMembers) {
  Stack stack(options(1));
  Follower ann(stack, token(stack, "ann"));
  ASSERT_TRUE(ann.wait_for("join:ann")) << stack.logs();
  auto sse = stack.start_get("/comet/sse?channel=lobby.1&token=" + url_encode(token(stack, "bob")));
  ASSERT_TRUE(sse->read_until("\"presence\":\"here\",\"members\":[{\"user\":\"ann\"}]", 10s))
      << sse->raw() << stack.logs();
  ASSERT_TRUE(sse->read_until("\"presence\":\"join\",\"user\":\"bob\"", 10s))
      << sse->raw() << stack.logs();
  EXPECT_TRUE(ann.wait_for("join:bob"));
  sse->close();
  EXPECT_TRUE(ann.wait_for("leave:bob"));
}

}  // namespace
}  // namespace comet::test
