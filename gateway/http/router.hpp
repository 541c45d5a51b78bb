// The FastCGI handler of the gateway: picks the endpoint by the last path
// segment (route.hpp), answers 404, 405 with Allow, and OPTIONS itself,
// parses the query, and hands the request to its endpoint.
#pragma once

#include "fcgi/request.hpp"
#include "gateway/http/channels_endpoint.hpp"
#include "gateway/http/poll_endpoint.hpp"
#include "gateway/http/publish_endpoint.hpp"
#include "gateway/http/responder.hpp"
#include "gateway/http/sse_endpoint.hpp"
#include "gateway/http/stats_endpoint.hpp"

namespace comet {

class Router final : public fcgi::Handler {
 public:
  Router(Responder& responder, PollEndpoint& poll, SseEndpoint& sse, PublishEndpoint& publish,
         ChannelsEndpoint& channels, StatsEndpoint& stats);

  void on_request(const fcgi::RequestPtr& request) override;

 private:
  Responder& responder_;
  PollEndpoint& poll_;
  SseEndpoint& sse_;
  PublishEndpoint& publish_;
  ChannelsEndpoint& channels_;
  StatsEndpoint& stats_;
};

}  // namespace comet
