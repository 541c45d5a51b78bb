#include "gateway/http/router.hpp"

#include "gateway/http/query.hpp"
#include "gateway/http/route.hpp"

namespace comet {
namespace {

constexpr std::string_view kGetOnly = "GET, OPTIONS";

}  // namespace

Router::Router(Responder& responder, PollEndpoint& poll, SseEndpoint& sse, PublishEndpoint& publish,
               ChannelsEndpoint& channels, StatsEndpoint& stats)
    : responder_(responder),
      poll_(poll),
      sse_(sse),
      publish_(publish),
      channels_(channels),
      stats_(stats) {}

void Router::on_request(const fcgi::RequestPtr& request) {
  const auto param = [&](std::string_view name) { return request->param(name); };
  const Endpoint endpoint = endpoint_for_path(request_path(param));
  const std::string_view method = request->param("REQUEST_METHOD");

  if (endpoint == Endpoint::unknown) {
    responder_.error(*request, {404, "not_found",
                                "no such endpoint (poll, sse, publish, channels, stats, health)"});
    return;
  }
  if (method == "OPTIONS") {
    responder_.options(*request, endpoint == Endpoint::publish ? "POST, OPTIONS" : kGetOnly);
    return;
  }
  const bool want_post = endpoint == Endpoint::publish;
  if ((want_post && method != "POST") || (!want_post && method != "GET")) {
    const std::string allow =
        std::string("Allow: ") + (want_post ? "POST, OPTIONS" : "GET, OPTIONS") + "\r\n";
    responder_.error(
        *request,
        {405, "method_not_allowed",
         std::string(endpoint_name(endpoint)) + " takes " + (want_post ? "POST" : "GET")},
        allow);
    return;
  }

  auto query = Query::parse(request->param("QUERY_STRING"));
  if (!query) {
    responder_.error(*request,
                     {400, "bad_query", "malformed percent-encoding in the query string"});
    return;
  }
  switch (endpoint) {
    case Endpoint::poll:
      poll_.handle(request, *query);
      break;
    case Endpoint::sse:
      sse_.handle(request, *query);
      break;
    case Endpoint::publish:
      publish_.handle(request, *query);
      break;
    case Endpoint::channels:
      channels_.handle(request, *query);
      break;
    case Endpoint::stats:
      stats_.stats(*request);
      break;
    case Endpoint::health:
      stats_.health(*request);
      break;
    case Endpoint::unknown:
      break;
  }
}

}  // namespace comet
