#include "gateway/http/webhook_json.hpp"

#include "gateway/http/json.hpp"

namespace comet {

const char* webhook_event_name(WebhookEvent::Kind kind) {
  switch (kind) {
    case WebhookEvent::Kind::channel_occupied:
      return "channel_occupied";
    case WebhookEvent::Kind::channel_vacated:
      return "channel_vacated";
    case WebhookEvent::Kind::member_added:
      return "member_added";
    case WebhookEvent::Kind::member_removed:
      return "member_removed";
  }
  return "unknown";
}

std::string webhook_body(std::span<const WebhookEvent> events, std::int64_t time_ms) {
  std::string out;
  out.reserve(32 + events.size() * 64);
  out += "{\"time_ms\":";
  out += std::to_string(time_ms);
  out += ",\"events\":[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (i != 0) out += ',';
    out += "{\"name\":\"";
    out += webhook_event_name(e.kind);
    out += "\",\"channel\":";
    append_json_string(out, e.channel);
    if (e.kind == WebhookEvent::Kind::member_added ||
        e.kind == WebhookEvent::Kind::member_removed) {
      out += ",\"user_id\":";
      append_json_string(out, e.user_id);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace comet
