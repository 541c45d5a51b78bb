#include "gateway/http_publish.hpp"

#include "gateway/channel_name.hpp"
#include "gateway/gateway.hpp"
#include "gateway/json.hpp"
#include "gateway/log.hpp"

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

void Gateway::handle_publish(const fcgi::RequestPtr& request, const Query& query) {
  const auto verdict =
      publish_access_.check(request->param("HTTP_AUTHORIZATION"), request->param("REMOTE_ADDR"));
  if (verdict == PublishAccess::Verdict::disabled) {
    send_error(*request,
               {403, "publish_disabled",
                "publishing over HTTP is off (see --publish-secret, --publish-allow); publish "
                "with Redis PUBLISH " +
                    config_.prefix + "NAME"});
    return;
  }
  if (verdict == PublishAccess::Verdict::denied) {
    send_error(*request, {403, "forbidden",
                          "publishing needs Authorization: Bearer <publish secret>, or a "
                          "client address on the allow-list"});
    return;
  }
  if (draining_) {
    send_error(*request, {503, "shutting_down", "the gateway is restarting; retry"},
               "Retry-After: 1\r\n");
    return;
  }
  auto parsed = parse_publish_params(query);
  if (auto* err = std::get_if<HttpError>(&parsed)) {
    send_error(*request, *err);
    return;
  }
  const auto& p = std::get<PublishParams>(parsed);
  const bool sent =
      redis_.publish(p.channel, request->body(), p.durable, [this, request](PublishResult r) {
        if (request->finished()) return;
        if (r.ok) {
          send_simple(*request, 202, "application/json", publish_accepted_body(r.receivers, r.id));
        } else {
          log(LogLevel::warn, "publish", "HTTP publish failed: " + r.error);
          send_error(*request,
                     {503, "redis_unavailable",
                      r.answered ? "Redis refused the message (" + r.error + ")"
                                 : "Redis did not answer in time: the message may or may not "
                                   "have been published"},
                     "Retry-After: 1\r\n");
        }
      });
  if (!sent) {
    send_error(*request,
               {503, "redis_unavailable", "not connected to Redis; nothing was published"},
               "Retry-After: 1\r\n");
  }
  // The inputs stay until the answer (a Redis round trip): it reads Origin
  // for its CORS headers.
}

}  // namespace comet
