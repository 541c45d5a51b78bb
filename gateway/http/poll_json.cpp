#include "gateway/http/poll_json.hpp"

#include "gateway/core/batch.hpp"
#include "gateway/http/json.hpp"

namespace comet {

std::string PollJson::message(std::string_view channel, std::string_view id,
                              std::string_view payload) const {
  std::string j;
  const bool text = is_valid_utf8(payload);
  // Sized up front: buffers are bounded by encoded bytes, and growth by
  // doubling would hold up to twice that (escapes still grow it).
  j.reserve(channel.size() + id.size() + (text ? payload.size() : (payload.size() + 2) / 3 * 4) +
            48);
  j.append("{\"channel\":");
  append_json_string(j, channel);
  j.append(",\"id\":\"");
  j.append(id);  // a cursor or a stream id: [0-9a-f.-] only, no escaping
  if (text) {
    j.append("\",\"data\":");
    append_json_string(j, payload);
  } else {
    j.append("\",\"data_base64\":\"");
    append_base64(j, payload);
    j.push_back('"');
  }
  j.push_back('}');
  return j;
}

namespace {

// "user":"..",["info":{..}] (info is a JSON object checked when its token was).
void append_member(std::string& j, std::string_view user, std::string_view info) {
  j.append("\"user\":");
  append_json_string(j, user);
  if (!info.empty()) {
    j.append(",\"info\":");
    j.append(info);
  }
}

void append_head(std::string& j, std::string_view channel, std::string_view id,
                 std::string_view kind) {
  j.append("{\"channel\":");
  append_json_string(j, channel);
  j.append(",\"id\":\"");
  j.append(id);  // a cursor: [0-9a-f.-] only
  j.append("\",\"presence\":\"");
  j.append(kind);
  j.append("\",");
}

}  // namespace

std::string PollJson::presence(std::string_view channel, std::string_view id,
                               const PresenceEvent& event) const {
  std::string j;
  j.reserve(channel.size() + id.size() + event.user.size() + event.info.size() + 64);
  append_head(j, channel, id, event.kind == PresenceEvent::Kind::join ? "join" : "leave");
  append_member(j, event.user, event.kind == PresenceEvent::Kind::join ? event.info : "");
  j.push_back('}');
  return j;
}

std::string PollJson::here(std::string_view channel, std::string_view id,
                           const PresenceMembers& members) {
  std::string j;
  append_head(j, channel, id, "here");
  j.append("\"members\":[");
  bool first = true;
  for (const auto& [user, info] : members) {
    if (!first) j.push_back(',');
    first = false;
    j.push_back('{');
    append_member(j, user, info);
    j.push_back('}');
  }
  j.append("]}");
  return j;
}

std::shared_ptr<const std::string> PollJson::body(const Batch& b) const {
  auto body = std::make_shared<std::string>();
  std::size_t size = 64;
  for (const auto& m : b.messages) size += m->encoded.size() + 1;
  for (const auto& g : b.gaps) size += g.size() + 3;
  body->reserve(size);
  body->append("{\"cursor\":\"");
  body->append(format_cursor(b.cursor));  // [0-9a-f.-] only: no escaping
  body->append("\",\"messages\":[");
  for (std::size_t i = 0; i < b.messages.size(); ++i) {
    if (i > 0) body->push_back(',');
    body->append(b.messages[i]->encoded);
  }
  body->push_back(']');
  if (!b.gaps.empty()) {
    body->append(",\"gaps\":[");
    for (std::size_t i = 0; i < b.gaps.size(); ++i) {
      if (i > 0) body->push_back(',');
      append_json_string(*body, b.gaps[i]);
    }
    body->push_back(']');
  }
  body->push_back('}');
  return body;
}

}  // namespace comet
