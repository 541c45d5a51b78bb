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
