// Webhooks end to end: a WebhookSender on its own io_context (the way the
// gateway runs it, fed events directly, as presence will) POSTs to a real
// PHP receiver (`php -S`, tests/support/webhook_receiver.php) that checks
// each request with Comet::verifyWebhook.
#include <gtest/gtest.h>

#include <signal.h>
#include <boost/asio/io_context.hpp>

#include <cctype>
#include <chrono>
#include <functional>
#include <iostream>
#include <set>

#include "gateway/app/webhook_sender.hpp"
#include "tests/support/stack.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"
#include "tests/support/webhook_receiver.hpp"

namespace comet::test {
namespace {

constexpr const char* kSecret = "a-webhook-secret-of-some-length";

using Kind = WebhookEvent::Kind;

// Runs the loop until pred() holds or the timeout passes; the sender's own
// timers and sockets are what wake it.
bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    io.restart();
    io.run_for(10ms);
  }
  return true;
}

WebhookOptions options(std::vector<std::string> urls, std::string secret = kSecret) {
  WebhookOptions o;
  for (const auto& u : urls) o.urls.push_back(parse_webhook_url(u));
  o.secret = std::move(secret);
  o.timeout = 2s;
  return o;
}

struct Fixture {
  TempDir dir;
  Logger log{LogLevel::debug, [this](std::string_view line) { lines += line; }};
  std::string lines;
  boost::asio::io_context io;
};

TEST(Webhook, EveryUrlGetsTheBatchSignedAndVerified) {
  Fixture f;
  WebhookReceiver receiver(f.dir.path(), kSecret);
  WebhookSender sender(f.io, options({receiver.url("id=a"), receiver.url("id=b")}), f.log);
  const auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const auto pushed = Clock::now();
  sender.webhook({Kind::channel_occupied, "chat.42", ""});
  sender.webhook({Kind::member_added, "chat.42", "7"});
  sender.webhook({Kind::member_removed, "chat.42", "7"});
  sender.webhook({Kind::channel_vacated, "chat.42", ""});
  ASSERT_TRUE(run_until(
      f.io, [&] { return sender.counters().batches_sent == 2; }, 10s))
      << f.lines << receiver.process().output();
  std::cout << "[ figure ] 4 events pushed to acknowledged by 2 URLs: "
            << std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - pushed).count()
            << " us (the 100 ms window included)\n";
  EXPECT_EQ(sender.counters().events_sent, 8u);
  EXPECT_EQ(sender.counters().failures, 0u);
  EXPECT_EQ(sender.queued(), 0u);

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  std::set<std::string> queries;
  for (const auto& r : requests) {
    queries.insert(r["query"].get<std::string>());
    EXPECT_EQ(r["method"], "POST");
    EXPECT_TRUE(r["verified"].get<bool>()) << r.dump();
    EXPECT_EQ(r["status"], 200);
    EXPECT_EQ(r["user_agent"], std::string("comet-gateway/") + COMET_VERSION);
    EXPECT_EQ(r["content_type"], "application/json");
    const auto body = nlohmann::json::parse(r["body"].get<std::string>());
    EXPECT_GE(body["time_ms"].get<std::int64_t>(), before_ms);
    EXPECT_EQ(body["events"], nlohmann::json::parse(
                                  R"([{"name":"channel_occupied","channel":"chat.42"},)"
                                  R"({"name":"member_added","channel":"chat.42","user_id":"7"},)"
                                  R"({"name":"member_removed","channel":"chat.42","user_id":"7"},)"
                                  R"({"name":"channel_vacated","channel":"chat.42"}])"));
  }
  EXPECT_EQ(queries, (std::set<std::string>{"id=a", "id=b"}));
  // Each URL got the same batch; both were signed over their own bytes.
  EXPECT_EQ(requests[0]["body"], requests[1]["body"]);
}

TEST(Webhook, BatchesHoldAtMostAThousandEventsAndComeInOrder) {
  Fixture f;
  WebhookReceiver receiver(f.dir.path(), kSecret);
  WebhookSender sender(f.io, options({receiver.url()}), f.log);
  const auto pushed = Clock::now();
  for (int i = 0; i < 2500; ++i) {
    sender.webhook({Kind::member_added, "room.1", std::to_string(i)});
  }
  ASSERT_TRUE(run_until(
      f.io, [&] { return sender.counters().events_sent == 2500; }, 20s))
      << f.lines << receiver.process().output();
  std::cout << "[ figure ] 2,500 events delivered in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - pushed).count()
            << " ms\n";
  std::vector<std::size_t> sizes;
  int next = 0;
  for (const auto& r : receiver.requests()) {
    const auto events = nlohmann::json::parse(r["body"].get<std::string>())["events"];
    sizes.push_back(events.size());
    for (const auto& e : events) EXPECT_EQ(e["user_id"], std::to_string(next++));
    std::cout << "[ figure ] batch of " << events.size()
              << " events: " << r["body"].get<std::string>().size() << " bytes\n";
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1000, 1000, 500}));
  EXPECT_EQ(sender.counters().batches_sent, 3u);
}

TEST(Webhook, A500IsRetriedUntilA2xxAndTheRetrySendsTheSameBytes) {
  Fixture f;
  WebhookReceiver receiver(f.dir.path(), kSecret);
  WebhookSender sender(f.io, options({receiver.url("fail=2")}), f.log);
  sender.webhook({Kind::channel_occupied, "chat.1", ""});
  ASSERT_TRUE(run_until(
      f.io, [&] { return sender.counters().batches_sent == 1; }, 10s))
      << f.lines << receiver.process().output();
  EXPECT_EQ(sender.counters().failures, 2u);
  EXPECT_EQ(sender.counters().events_sent, 1u);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["status"], 500);
  EXPECT_EQ(requests[1]["status"], 500);
  EXPECT_EQ(requests[2]["status"], 200);
  for (const auto& r : requests) {
    EXPECT_EQ(r["body"], requests[0]["body"]);
    EXPECT_EQ(r["signature"], requests[0]["signature"]);
  }
  EXPECT_NE(f.lines.find("answered 500"), std::string::npos) << f.lines;
}

TEST(Webhook, AReceiverThatDoesNotAnswerTimesOutAndIsRetried) {
  Fixture f;
  WebhookReceiver receiver(f.dir.path(), kSecret);
  auto o = options({receiver.url("hang=1&sleep=1")});
  o.timeout = 300ms;
  WebhookSender sender(f.io, o, f.log);
  const auto pushed = Clock::now();
  sender.webhook({Kind::channel_occupied, "chat.1", ""});
  ASSERT_TRUE(run_until(
      f.io, [&] { return sender.counters().batches_sent == 1; }, 10s))
      << f.lines << receiver.process().output();
  // Not before the first attempt's time-out; php -S answers one request at
  // a time, so attempts made while it hangs time out too.
  EXPECT_GE(Clock::now() - pushed, 400ms);
  EXPECT_GE(sender.counters().failures, 1u);
  EXPECT_NE(f.lines.find("timed out after 0.3 s"), std::string::npos) << f.lines;
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0]["status"], 0);  // the hung one
  for (const auto& r : requests) EXPECT_EQ(r["body"], requests[0]["body"]);
}

TEST(Webhook, AReceiverThatIsDownIsGivenUpOnAfterRetryForAndCounted) {
  Fixture f;
  auto o = options({"http://127.0.0.1:" + std::to_string(free_tcp_port()) + "/hook"});
  o.queue.retry_for = 1s;
  WebhookSender sender(f.io, o, f.log);
  const auto pushed = Clock::now();
  sender.webhook({Kind::channel_occupied, "chat.1", ""});
  sender.webhook({Kind::channel_vacated, "chat.1", ""});
  ASSERT_TRUE(run_until(
      f.io, [&] { return sender.counters().dropped_expired == 2; }, 10s))
      << f.lines;
  const auto took = Clock::now() - pushed;
  std::cout << "[ figure ] receiver down: batch dropped after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms, "
            << sender.counters().failures << " attempts\n";
  EXPECT_LT(took, 1100ms + 100ms);
  EXPECT_GE(sender.counters().failures, 2u);
  EXPECT_EQ(sender.counters().events_sent, 0u);
  EXPECT_EQ(sender.queued(), 0u);
  EXPECT_NE(f.lines.find("cannot connect"), std::string::npos) << f.lines;
  EXPECT_NE(f.lines.find("dropped a batch of 2 events, not acknowledged within 1.0 s"),
            std::string::npos)
      << f.lines;
}

TEST(Webhook, TheWrongSecretDoesNotVerify) {
  Fixture f;
  WebhookReceiver receiver(f.dir.path(), kSecret);
  auto o = options({receiver.url()}, "not-the-receivers-secret");
  o.queue.retry_for = 50ms;
  WebhookSender sender(f.io, o, f.log);
  sender.webhook({Kind::channel_occupied, "chat.1", ""});
  ASSERT_TRUE(run_until(
      f.io, [&] { return sender.counters().dropped_expired == 1; }, 10s))
      << f.lines << receiver.process().output();
  const auto requests = receiver.requests();
  ASSERT_GE(requests.size(), 1u);
  for (const auto& r : requests) {
    EXPECT_FALSE(r["verified"].get<bool>());
    EXPECT_EQ(r["status"], 401);
  }
  EXPECT_EQ(sender.counters().failures, requests.size());
  EXPECT_EQ(sender.counters().events_sent, 0u);
}

TEST(Webhook, DrainSendsAtOnceAndGivesUpAfterTheGrace) {
  Fixture f;
  WebhookReceiver receiver(f.dir.path(), kSecret);
  const std::string down = "http://127.0.0.1:" + std::to_string(free_tcp_port()) + "/hook";
  {
    WebhookSender sender(f.io, options({receiver.url()}), f.log);
    sender.webhook({Kind::channel_occupied, "chat.1", ""});
    bool drained = false;
    const auto start = Clock::now();
    sender.drain(5000ms, [&] { drained = true; });
    EXPECT_FALSE(drained);  // never from inside drain()
    ASSERT_TRUE(run_until(
        f.io, [&] { return drained; }, 10s))
        << f.lines;
    std::cout << "[ figure ] drain with one event queued: "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()
              << " ms\n";
    EXPECT_LT(Clock::now() - start, 2s);
    EXPECT_EQ(sender.counters().events_sent, 1u);
  }
  {
    WebhookSender sender(f.io, options({down}), f.log);
    sender.webhook({Kind::channel_occupied, "chat.1", ""});
    sender.webhook({Kind::channel_vacated, "chat.1", ""});
    bool drained = false;
    sender.drain(300ms, [&] { drained = true; });
    ASSERT_TRUE(run_until(
        f.io, [&] { return drained; }, 10s))
        << f.lines;
    EXPECT_EQ(sender.counters().dropped_expired, 2u);
    EXPECT_EQ(sender.queued(), 0u);
    EXPECT_NE(f.lines.find("shutdown: dropped 2 webhook events"), std::string::npos) << f.lines;
  }
}

// The gateway process with --webhook: the metrics are in stats, and a
// SIGTERM with nothing queued stops it at once (the webhook step of the
// shutdown completes too).
TEST(Webhook, TheGatewayWithAWebhookCountsInStatsAndStopsOnSigterm) {
  TempDir dir;
  WebhookReceiver receiver(dir.path(), kSecret);
  StackOptions o;
  o.nginx = false;
  o.gateway_args = {"--webhook", receiver.url(), "--webhook-secret", kSecret};
  Stack stack(o);
  for (const char* name : {"comet_webhook_events_sent_total", "comet_webhook_batches_sent_total",
                           "comet_webhook_failures_total", "comet_webhook_events_dropped_total",
                           "comet_webhook_events_queued"}) {
    EXPECT_EQ(stack.metric(name), 0.0) << name;
  }
  EXPECT_NE(stack.gateway().log().find("sending webhooks to " + receiver.url()), std::string::npos)
      << stack.gateway().log();
  const auto start = Clock::now();
  stack.gateway().process().signal(SIGTERM);
  const auto status = stack.gateway().process().wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << stack.gateway().log();
  EXPECT_EQ(*status, 0) << stack.gateway().log();
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_NE(stack.gateway().log().find("every queued webhook event was delivered"),
            std::string::npos)
      << stack.gateway().log();
}

TEST(Webhook, VerifyWebhookAcceptsOnlyTheExactSignatureForm) {
  TempDir dir;
  // The golden value of tests/unit/gateway/http/webhook_json_test.cpp.
  const std::string body =
      R"({"time_ms":1718000000123,"events":[{"name":"channel_occupied","channel":"chat.42"},)"
      R"({"name":"member_added","channel":"chat.42","user_id":"7"}]})";
  const std::string hex = "bf103622e9d0434a05131bbfb32f69c435d62aafba49dc640b40300da90a01b0";
  std::string upper = hex;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_file(dir.file("body"), body);
  const auto verify = [&](const std::string& secret, const std::string& header) {
    write_file(dir.file("header"), header);
    const std::string code = "require '" + std::string(COMET_SOURCE_DIR) +
                             "/clients/php/Comet.php'; echo Comet::verifyWebhook('" + secret +
                             "', file_get_contents('" + dir.file("body") +
                             "'), file_get_contents('" + dir.file("header") + "')) ? 'yes' : 'no';";
    const auto r = run({"php", "-r", code}, dir.path(), 30s);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out == "yes";
  };
  const std::string secret = "webhook-secret-0123456789";
  EXPECT_TRUE(verify(secret, "sha256=" + hex));
  EXPECT_FALSE(verify("webhook-secret-0123456780", "sha256=" + hex));
  EXPECT_FALSE(verify("", "sha256=" + hex));
  for (const std::string& header :
       {"sha256=" + upper, hex, "SHA256=" + hex, "sha256=" + hex + "\n", " sha256=" + hex,
        "sha256=" + hex.substr(2), "sha256=" + hex + "00", "sha1=" + hex, std::string()}) {
    EXPECT_FALSE(verify(secret, header)) << header;
  }
}

}  // namespace
}  // namespace comet::test
