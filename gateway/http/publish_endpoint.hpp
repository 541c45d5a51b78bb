// POST .../publish?channel=NAME[&durable=1]: publishing over HTTP (see
// publish_params.hpp), refused unless PublishAccess admits the request.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fcgi/request.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/publish_access.hpp"
#include "gateway/http/publisher.hpp"
#include "gateway/http/query.hpp"
#include "gateway/util/log.hpp"

namespace comet {

// Whether a back-end request (publish, channels) is admitted by
// --publish-secret/--publish-allow: nullopt, or the 403 to answer.
// `prefix`: the Redis channel prefix, named when publishing over HTTP is off.
std::optional<HttpError> back_end_refusal(const PublishAccess& access, const fcgi::Request& request,
                                          Responder& respond, std::string_view prefix);

class PublishEndpoint {
 public:
  // `prefix`: the Redis channel prefix, named in the answer when
  // publishing over HTTP is off.
  PublishEndpoint(Delivery& delivery, const PublishAccess& access, Publisher& publisher,
                  std::string prefix, const Logger& log);

  void handle(const fcgi::RequestPtr& request, const Query& query);

 private:
  Delivery& delivery_;
  const PublishAccess& access_;
  Publisher& publisher_;
  std::string prefix_;
  const Logger& log_;
};

}  // namespace comet
