#include "gateway/app/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <vector>

namespace comet {
namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "comet-gateway");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST(Config, Defaults) {
  const auto cl = parse({});
  EXPECT_EQ(cl.action, CommandLine::Action::run);
  EXPECT_EQ(cl.config.listen, std::vector<std::string>{"127.0.0.1:9000"});
  EXPECT_EQ(cl.config.redis.host, "127.0.0.1");
  EXPECT_EQ(cl.config.redis.port, 6379);
  EXPECT_EQ(cl.config.prefix, "comet:");
  EXPECT_EQ(cl.config.poll.default_timeout, std::chrono::seconds(25));
  EXPECT_EQ(cl.config.poll.max_channels, 64u);
}

TEST(Config, HelpListsEveryFlagWithDefaults) {
  const auto cl = parse({"--help"});
  EXPECT_EQ(cl.action, CommandLine::Action::help);
  for (const char* flag : {"--listen", "--redis", "--prefix", "--max-timeout", "--max-channels",
                           "--config", "--version", "--log-level", "--cors-origin"}) {
    EXPECT_NE(cl.text.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(cl.text.find("redis://127.0.0.1:6379"), std::string::npos);
}

TEST(Config, RepeatedListenAndConfigFileWithCommandLineWinning) {
  char path[] = "/tmp/comet-config-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "# a comment\nlisten = unix:/tmp/a.sock\nprefix = site1:\nmax-channels = 256\n"
         "max-timeout = 30\n";
  }
  const auto cl = parse({"--config", path, "--prefix", "cli:", "--listen", "127.0.0.1:1"});
  const auto from_file = parse({"--config", path});
  std::remove(path);
  EXPECT_EQ(cl.config.prefix, "cli:");
  EXPECT_EQ(cl.config.poll.max_channels, 256u);
  EXPECT_EQ(cl.config.poll.max_timeout, std::chrono::seconds(30));
  // A repeatable flag on the command line replaces the file's values.
  EXPECT_EQ(cl.config.listen, std::vector<std::string>{"127.0.0.1:1"});
  EXPECT_EQ(from_file.config.listen, std::vector<std::string>{"unix:/tmp/a.sock"});
}

TEST(Config, TheShippedConfigFileParses) {
  const std::string path = std::string(COMET_SOURCE_DIR) + "/deploy/comet-gateway.conf.example";
  const auto cl = parse({"--config", path.c_str()});
  EXPECT_EQ(cl.config.listen, (std::vector<std::string>{"unix:/run/comet-gateway/comet.sock"}));
  EXPECT_EQ(cl.config.redis.redacted(), "redis://127.0.0.1:6379");
  EXPECT_EQ(cl.config.poll.max_timeout, std::chrono::seconds(50));
  // The socket is the web server's group's (the unit's SupplementaryGroups=).
  EXPECT_EQ(cl.config.listen_group, "www-data");
  EXPECT_EQ(cl.config.listen_mode, 0660u);
}

TEST(Config, PublishAccessFlags) {
  const auto cl = parse({"--publish-secret", "0123456789abcdef", "--publish-allow", "127.0.0.1",
                         "--publish-allow", "10.0.0.0/8"});
  EXPECT_EQ(cl.config.publish_secrets, (std::vector<std::string>{"0123456789abcdef"}));
  EXPECT_EQ(cl.config.publish_allow, (std::vector<std::string>{"127.0.0.1", "10.0.0.0/8"}));
  EXPECT_TRUE(parse({}).config.publish_secrets.empty());
  EXPECT_THROW(parse({"--publish-secret", "short"}), std::runtime_error);
  try {
    parse({"--publish-allow", "10.0.0.0/40"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("10.0.0.0/40"), std::string::npos) << e.what();
  }
}

TEST(Config, ListenersAdmitTheirOwnersAndLoopbackByDefault) {
  const auto d = parse({});
  EXPECT_EQ(d.config.listen_mode, 0660u);
  EXPECT_EQ(d.config.listen_group, "");
  EXPECT_EQ(d.config.listen_allow, (std::vector<std::string>{"127.0.0.0/8", "::1"}));

  const auto c = parse({"--listen-mode", "600", "--listen-group", "www-data", "--listen-allow",
                        "10.0.0.0/8", "--listen-allow", "::1"});
  EXPECT_EQ(c.config.listen_mode, 0600u);
  EXPECT_EQ(c.config.listen_group, "www-data");
  EXPECT_EQ(c.config.listen_allow, (std::vector<std::string>{"10.0.0.0/8", "::1"}));

  for (const char* bad : {"", "0999", "1000", "rw-rw----", "66 0", "-1"}) {
    try {
      parse({"--listen-mode", bad});
      ADD_FAILURE() << "--listen-mode " << bad << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("--listen-mode must be octal"), std::string::npos)
          << e.what();
    }
  }
  try {
    parse({"--listen-allow", "localhost"});
    ADD_FAILURE() << "--listen-allow localhost was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--listen-allow: \"localhost\" is not"), std::string::npos)
        << e.what();
  }
  const auto help = parse({"--help"}).text;
  for (const char* flag : {"--listen-mode", "--listen-group", "--listen-allow"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

TEST(Config, BudgetsHaveDefaultsForASmallMachine) {
  const auto d = parse({}).config;
  EXPECT_EQ(d.hub.max_waiters, 100000u);
  EXPECT_EQ(d.clients.max_parked, 1000u);
  EXPECT_EQ(d.clients.max_channel_refs, 8192u);
  EXPECT_EQ(d.hub.max_channels, 200000u);
  EXPECT_EQ(d.hub.max_buffered_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(d.fcgi.max_write_queue_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(d.fcgi.max_write_queue_bytes_total, 512u * 1024 * 1024);
  const auto c = parse({"--max-parked-per-client", "5", "--max-channels-per-client", "100",
                        "--max-channels-total", "10", "--buffer-bytes-total", "1000",
                        "--max-write-queue-bytes", "2000", "--max-write-queue-bytes-total", "3000"})
                     .config;
  EXPECT_EQ(c.clients.max_parked, 5u);
  EXPECT_EQ(c.clients.max_channel_refs, 100u);
  EXPECT_EQ(c.hub.max_channels, 10u);
  EXPECT_EQ(c.hub.max_buffered_bytes, 1000u);
  EXPECT_EQ(c.fcgi.max_write_queue_bytes, 2000u);
  EXPECT_EQ(c.fcgi.max_write_queue_bytes_total, 3000u);
  // A client's channel share must hold one request's channels.
  EXPECT_THROW(parse({"--max-channels-per-client", "63"}), std::runtime_error);
  EXPECT_THROW(parse({"--max-parked-per-client", "0"}), std::runtime_error);
}

TEST(Config, StreamReadBudgets) {
  const auto d = parse({}).config;
  EXPECT_EQ(d.max_reads_per_poll, 4u);
  EXPECT_EQ(d.stream_reads.max_reads, 64u);
  EXPECT_EQ(d.stream_reads.max_bytes, 64u * 1024 * 1024);
  const auto c = parse({"--max-reads-per-poll", "8", "--max-stream-reads", "128",
                        "--max-stream-read-bytes", "1048576"})
                     .config;
  EXPECT_EQ(c.max_reads_per_poll, 8u);
  EXPECT_EQ(c.stream_reads.max_reads, 128u);
  EXPECT_EQ(c.stream_reads.max_bytes, 1048576u);
  EXPECT_THROW(parse({"--max-reads-per-poll", "0"}), std::runtime_error);
  const auto help = parse({"--help"}).text;
  for (const char* flag :
       {"--max-reads-per-poll", "--max-stream-reads", "--max-stream-read-bytes"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

TEST(Config, PublicChannels) {
  const std::string secret = "0123456789abcdef";
  const auto cl = parse({"--token-secret", secret.c_str(), "--public-channel", "news",
                         "--public-channel", "public.*"});
  EXPECT_EQ(cl.config.public_channels, (std::vector<std::string>{"news", "public.*"}));
  EXPECT_TRUE(parse({}).config.public_channels.empty());
  for (const char* bad : {"*", "a b", "bad*name", ""}) {
    try {
      parse({"--token-secret", secret.c_str(), "--public-channel", bad});
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("--public-channel"), std::string::npos) << e.what();
    }
  }
  // Without access control every channel is open already: saying which
  // ones are public is a mistake worth a clear word.
  try {
    parse({"--public-channel", "news"});
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--token-secret"), std::string::npos) << e.what();
  }
}

std::string error_of(std::vector<const char*> args) {
  try {
    parse(std::move(args));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Config, PresenceChannels) {
  const char* secret = "0123456789abcdef";
  const auto cl = parse({"--token-secret", secret, "--presence", "lobby.*", "--presence", "room",
                         "--presence-grace", "2.5"});
  EXPECT_EQ(cl.config.presence_channels, (std::vector<std::string>{"lobby.*", "room"}));
  EXPECT_EQ(cl.config.presence_grace, std::chrono::milliseconds(2500));
  EXPECT_EQ(parse({}).config.presence_grace, std::chrono::milliseconds(5000));
  EXPECT_TRUE(parse({}).config.presence_channels.empty());
  for (const char* bad : {"*", "a b", "bad*name", ""}) {
    EXPECT_NE(error_of({"--token-secret", secret, "--presence", bad}).find("--presence"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(error_of({"--presence", "lobby.*"}).find("needs --token-secret"), std::string::npos);
  EXPECT_NE(error_of({"--presence-grace", "0.01"}).find("--presence-grace"), std::string::npos);
}

TEST(Config, WebhookFlags) {
  const auto off = parse({}).config.webhook;
  EXPECT_TRUE(off.urls.empty());
  EXPECT_EQ(off.delay, std::chrono::seconds(3));
  EXPECT_EQ(off.timeout, std::chrono::seconds(5));
  EXPECT_EQ(off.queue.retry_for, std::chrono::seconds(60));

  const auto on =
      parse({"--webhook", "http://127.0.0.1:8080/hooks/comet?site=1", "--webhook", "http://[::1]/w",
             "--webhook", "http://backend.internal", "--webhook-secret", "0123456789abcdef",
             "--webhook-delay", "0.5", "--webhook-timeout", "2.5", "--webhook-retry-for", "30"})
          .config.webhook;
  ASSERT_EQ(on.urls.size(), 3u);
  EXPECT_EQ(on.urls[0].host, "127.0.0.1");
  EXPECT_EQ(on.urls[0].port, "8080");
  EXPECT_EQ(on.urls[0].target, "/hooks/comet?site=1");
  EXPECT_EQ(on.urls[0].host_header, "127.0.0.1:8080");
  EXPECT_EQ(on.urls[1].host, "::1");
  EXPECT_EQ(on.urls[1].port, "80");
  EXPECT_EQ(on.urls[1].host_header, "[::1]");
  EXPECT_EQ(on.urls[2].host, "backend.internal");
  EXPECT_EQ(on.urls[2].target, "/");
  EXPECT_EQ(on.secret, "0123456789abcdef");
  EXPECT_EQ(on.delay, std::chrono::milliseconds(500));
  EXPECT_EQ(on.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(on.queue.retry_for, std::chrono::seconds(30));
}

TEST(Config, WebhookFlagsAreChecked) {
  const char* secret = "0123456789abcdef";
  EXPECT_NE(error_of({"--webhook", "http://127.0.0.1/"}).find("--webhook-secret"),
            std::string::npos);
  EXPECT_NE(
      error_of({"--webhook", "http://127.0.0.1/", "--webhook-secret", "short"}).find("at least 16"),
      std::string::npos);
  EXPECT_NE(error_of({"--webhook", "https://example.com/", "--webhook-secret", secret})
                .find("https:// is not supported"),
            std::string::npos);
  for (const char* url : {"ftp://x/", "127.0.0.1:80/", "http://", "http:///path", "http://h:0/",
                          "http://h:65536/", "http://h:x/", "http://h:/", "http://::1/",
                          "http://[::1/", "http://user:pw@h/", "http://h/a b"}) {
    EXPECT_NE(error_of({"--webhook", url, "--webhook-secret", secret}).find("--webhook"),
              std::string::npos)
        << url;
  }
  EXPECT_THROW(parse({"--webhook-timeout", "0.05"}), std::runtime_error);
  EXPECT_THROW(parse({"--webhook-retry-for", "-1"}), std::runtime_error);
  EXPECT_THROW(parse({"--webhook-delay", "x"}), std::runtime_error);
  const auto help = parse({"--help"}).text;
  for (const char* flag : {"--webhook ", "--webhook-secret", "--webhook-delay", "--webhook-timeout",
                           "--webhook-retry-for"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

TEST(Config, WebhookFlagsFromTheConfigFile) {
  char path[] = "/tmp/comet-config-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "webhook = http://127.0.0.1:1/a\nwebhook = http://127.0.0.1:2/b\n"
         "webhook-secret = 0123456789abcdef\nwebhook-retry-for = 5\n";
  }
  const auto cl = parse({"--config", path});
  std::remove(path);
  ASSERT_EQ(cl.config.webhook.urls.size(), 2u);
  EXPECT_EQ(cl.config.webhook.urls[1].text, "http://127.0.0.1:2/b");
  EXPECT_EQ(cl.config.webhook.queue.retry_for, std::chrono::seconds(5));
}

TEST(Config, BadInputIsAReadableError) {
  EXPECT_THROW(parse({"--bogus"}), std::runtime_error);
  EXPECT_THROW(parse({"--max-channels", "x"}), std::runtime_error);
  EXPECT_THROW(parse({"--max-channels", "0"}), std::runtime_error);
  EXPECT_THROW(parse({"--max-channels", "4097"}), std::runtime_error);
  EXPECT_EQ(parse({"--max-channels", "4096", "--max-channels-per-client", "8192"})
                .config.poll.max_channels,
            4096u);
  EXPECT_THROW(parse({"--max-params-bytes", "2147483648"}), std::runtime_error);
  EXPECT_THROW(parse({"--redis", "http://x"}), std::runtime_error);
  EXPECT_THROW(parse({"--log-level", "loud"}), std::runtime_error);
  EXPECT_THROW(parse({"--config", "/nonexistent/file"}), std::runtime_error);
}

}  // namespace
}  // namespace comet
