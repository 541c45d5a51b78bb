// What --webhook and its companion flags configure (docs/API.md, "Webhooks").
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/webhook_queue.hpp"

namespace comet {

// http://host[:port][/path][?query]; the host a name, an IPv4 address or
// [an IPv6 one].
struct WebhookUrl {
  std::string text;  // as given, for logs
  std::string host;  // without brackets
  std::string port = "80";
  std::string target = "/";  // path and query
  std::string host_header;   // host[:port] as given
};

// Throws std::invalid_argument naming what is wrong (https:// included:
// not supported).
WebhookUrl parse_webhook_url(std::string_view text);

struct WebhookOptions {
  std::vector<WebhookUrl> urls;  // webhooks on when non-empty
  std::string secret;
  // How long a change must last before presence reports it; applied where
  // the events are made, not by the sender.
  std::chrono::milliseconds delay{3000};
  std::chrono::milliseconds timeout{5000};  // per POST, from connect to the answer's header
  WebhookQueueOptions queue;                // retry_for from --webhook-retry-for
};

}  // namespace comet
