// The body of a webhook POST (docs/API.md, "Webhooks"):
//   {"time_ms":N,"events":[{"name":"member_added","channel":"chat.42","user_id":"7"},...]}
// "user_id" only on member_added and member_removed.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "gateway/core/webhook_event.hpp"

namespace comet {

const char* webhook_event_name(WebhookEvent::Kind kind);

// `time_ms`: the wall clock, in milliseconds since the Unix epoch, when the
// batch was formed.
std::string webhook_body(std::span<const WebhookEvent> events, std::int64_t time_ms);

}  // namespace comet
