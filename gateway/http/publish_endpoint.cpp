#include "gateway/http/publish_endpoint.hpp"

#include "gateway/http/publish_params.hpp"
#include "gateway/util/log.hpp"

namespace comet {

PublishEndpoint::PublishEndpoint(Delivery& delivery, const PublishAccess& access,
                                 Publisher& publisher, std::string prefix, const Logger& log)
    : delivery_(delivery),
      access_(access),
      publisher_(publisher),
      prefix_(std::move(prefix)),
      log_(log) {}

std::optional<HttpError> back_end_refusal(const PublishAccess& access, const fcgi::Request& request,
                                          Responder& respond, std::string_view prefix) {
  const bool foreign_page =
      !request.param("HTTP_ORIGIN").empty() && respond.allowed_origin(request).empty();
  const auto verdict =
      access.check(request.param("HTTP_AUTHORIZATION"), request.param("REMOTE_ADDR"), foreign_page);
  switch (verdict) {
    case PublishAccess::Verdict::allowed:
      return std::nullopt;
    case PublishAccess::Verdict::disabled:
      return HttpError{403, "publish_disabled",
                       "publishing over HTTP is off (see --publish-secret, --publish-allow); "
                       "publish with Redis PUBLISH " +
                           std::string(prefix) + "NAME"};
    case PublishAccess::Verdict::cross_site:
      return HttpError{403, "forbidden",
                       "a browser page from Origin " + std::string(request.param("HTTP_ORIGIN")) +
                           " may not publish by client address (it could be any site's page "
                           "sending a visitor's browser here); publish with a secret, or add "
                           "the origin to --cors-origin"};
    case PublishAccess::Verdict::denied:
      break;
  }
  return HttpError{403, "forbidden",
                   "publishing needs Authorization: Bearer <publish secret>, or a client "
                   "address on the allow-list"};
}

void PublishEndpoint::handle(const fcgi::RequestPtr& request, const Query& query) {
  Responder& respond = delivery_.responder();
  if (auto refused = back_end_refusal(access_, *request, respond, prefix_)) {
    respond.error(*request, *refused);
    return;
  }
  if (delivery_.draining()) {
    respond.error(*request, errors::shutting_down);
    return;
  }
  auto parsed = parse_publish_params(query);
  if (auto* err = std::get_if<HttpError>(&parsed)) {
    respond.error(*request, *err);
    return;
  }
  const auto& p = std::get<PublishParams>(parsed);
  const bool sent =
      publisher_.publish(p.channel, request->body(), p.durable, [this, request](PublishResult r) {
        Responder& respond = delivery_.responder();
        if (request->finished()) return;
        if (r.ok) {
          respond.simple(*request, 202, "application/json",
                         publish_accepted_body(r.receivers, r.id));
        } else {
          log_.log(LogLevel::warn, "publish", "HTTP publish failed: " + r.error);
          respond.error(*request,
                        {503, "redis_unavailable",
                         r.answered ? "Redis refused the message (" + r.error + ")"
                                    : "Redis did not answer in time: the message may or may not "
                                      "have been published",
                         1});
        }
      });
  if (!sent) {
    respond.error(*request,
                  {503, "redis_unavailable", "not connected to Redis; nothing was published", 1});
  }
  // The inputs stay until the answer (a Redis round trip): it reads Origin
  // for its CORS headers.
}

}  // namespace comet
