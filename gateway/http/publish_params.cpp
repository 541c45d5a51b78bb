#include "gateway/http/publish_params.hpp"

#include "gateway/core/channel_name.hpp"
#include "gateway/http/json.hpp"

namespace comet {

std::variant<PublishParams, HttpError> parse_publish_params(const Query& query) {
  const auto channels = query.all("channel");
  if (channels.empty()) return HttpError{400, "missing_channel", "publish needs channel=NAME"};
  if (channels.size() > 1 || channels.front().find(',') != std::string_view::npos) {
    return HttpError{400, "bad_channel", "publish takes exactly one channel"};
  }
  if (!is_valid_channel_name(channels.front())) {
    return HttpError{400, "bad_channel",
                     "channel names are 1 to 128 characters of A-Z a-z 0-9 _ . : @ -"};
  }
  PublishParams out;
  out.channel = std::string(channels.front());
  if (auto d = query.get("durable")) {
    if (*d == "1" || *d == "true") {
      out.durable = true;
    } else if (!(*d == "0" || *d == "false")) {
      return HttpError{400, "bad_durable", "durable is 1 or 0"};
    }
  }
  return out;
}

std::string publish_accepted_body(long long receivers, const std::string& id) {
  std::string body = "{\"published\":" + std::to_string(receivers);
  if (!id.empty()) {
    body += ",\"id\":";
    append_json_string(body, id);
  }
  body += "}";
  return body;
}

}  // namespace comet
