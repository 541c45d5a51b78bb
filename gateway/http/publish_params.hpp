// POST .../publish?channel=NAME[&durable=1]: publishing over HTTP, for back
// ends that cannot speak Redis. The body is the payload, byte for byte.
// Off unless --publish-secret or --publish-allow is given (PublishAccess).
// Answered 202 {"published":N} (N: the Redis subscribers that received it,
// PUBLISH's count) or, for a durable publish, 202
// {"published":1,"id":"<stream id>"}.
#pragma once

#include <string>
#include <variant>

#include "gateway/http/http_error.hpp"
#include "gateway/http/query.hpp"

namespace comet {

struct PublishParams {
  std::string channel;
  bool durable = false;  // durable=1: comet_publish_v1, as Comet::publishDurable
};

std::variant<PublishParams, HttpError> parse_publish_params(const Query& query);

// The 202 body.
std::string publish_accepted_body(long long receivers, const std::string& id);

}  // namespace comet
