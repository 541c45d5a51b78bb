// The parameters of a poll or SSE request, validated as docs/API.md says. Pure:
// no sockets, no Hub.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/core/cursor.hpp"
#include "gateway/http/access_control.hpp"
#include "gateway/http/http_error.hpp"
#include "gateway/http/query.hpp"

namespace comet {

struct PollLimits {
  std::size_t max_channels = 64;
  std::chrono::milliseconds default_timeout{25000};
  std::chrono::milliseconds max_timeout{50000};
};

struct PollParams {
  std::vector<std::string> channels;  // valid, deduplicated, in request order
  Since since;
  std::chrono::milliseconds timeout{0};
  std::string callback;  // JSONP, empty when absent
  std::string token;
  // With access control: when the token expires (unix seconds). A stream
  // must not outlive it.
  std::optional<std::int64_t> token_expires;
  // The user the token names, and what it says of them (a JSON object).
  std::optional<std::string> user;
  std::optional<std::string> user_info;
};

// `last_event_id` is the SSE header; it wins over `since` when both are
// present (an EventSource reconnects with the URL it first opened).
std::variant<PollParams, HttpError> parse_poll_params(const Query& query,
                                                      std::string_view last_event_id,
                                                      const PollLimits& limits);

// parse_poll_params, then access control's verdict on its channels: what
// poll and sse both ask before anything else.
std::variant<PollParams, HttpError> admit_poll_params(const Query& query,
                                                      std::string_view last_event_id,
                                                      const PollLimits& limits,
                                                      const AccessControl& access);

bool is_valid_jsonp_callback(std::string_view name);

}  // namespace comet
