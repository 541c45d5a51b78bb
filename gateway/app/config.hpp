// Command-line flags and the config file: every flag has a file form
// ("name = value", one per line, '#' comments); the command line wins.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fcgi/limits.hpp"
#include "gateway/app/webhook_options.hpp"
#include "gateway/core/durable_reader.hpp"
#include "gateway/core/hub.hpp"
#include "gateway/http/client_budget.hpp"
#include "gateway/http/poll_params.hpp"
#include "gateway/redis/redis_url.hpp"
#include "gateway/util/log.hpp"

namespace comet {

struct Config {
  std::vector<std::string> listen;
  // Who may connect: a Unix socket's mode and group, and the peers a TCP
  // listener accepts (addresses or CIDR blocks, as AddressRange takes).
  unsigned listen_mode = 0660;
  std::string listen_group;
  std::vector<std::string> listen_allow{"127.0.0.0/8", "::1"};
  RedisUrl redis;
  std::string prefix = "comet:";
  PollLimits poll;
  HubOptions hub;
  ClientLimits clients;
  // Stream reads that place durable positions: per poll, and in all.
  std::size_t max_reads_per_poll = 4;
  DurableReaderOptions stream_reads;
  fcgi::Limits fcgi;
  std::vector<std::string> cors_origins;
  std::vector<std::string> token_secrets;      // access control on when non-empty
  std::vector<std::string> public_channels;    // need no token (names, "prefix*")
  std::vector<std::string> presence_channels;  // names, "prefix*"
  std::chrono::milliseconds presence_grace{5000};
  // HTTP publish: off unless one of these is given (PublishAccess).
  std::vector<std::string> publish_secrets;
  std::vector<std::string> publish_allow;
  // Webhooks to the site's back end: off unless --webhook is given.
  WebhookOptions webhook;
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::milliseconds sse_keepalive{15000};
  std::chrono::milliseconds sse_lifetime{600000};
  std::chrono::milliseconds shutdown_grace{10000};
  LogLevel log_level = LogLevel::info;
  std::string config_file;
  // The command line as given, so SIGHUP can read the same sources again.
  std::vector<std::string> args;
};

// What the command line asked for: run with a config, or print and exit.
struct CommandLine {
  enum class Action { run, help, version } action = Action::run;
  Config config;
  std::string text;  // --help / --version output
};

// Throws std::runtime_error with a message fit for the user on bad input.
CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace comet
