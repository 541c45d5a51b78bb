#include "gateway/http/stats_endpoint.hpp"

#include "gateway/http/http_response.hpp"

namespace comet {

StatsEndpoint::StatsEndpoint(Delivery& delivery, const Stats& stats, const GaugeSource& gauges)
    : delivery_(delivery), stats_(stats), gauges_(gauges) {}

void StatsEndpoint::stats(fcgi::Request& request) {
  delivery_.responder().count(200);  // counted before rendering, so this response is included
  std::string body = stats_.render(gauges_.gauges(), delivery_.hub().counters());
  fcgi::Response r;
  r.head = response_head(200, "text/plain; version=0.0.4; charset=utf-8", body.size()) + "\r\n";
  r.body = std::make_shared<const std::string>(std::move(body));
  request.respond(std::move(r));
}

void StatsEndpoint::health(fcgi::Request& request) {
  Responder& respond = delivery_.responder();
  const bool draining = delivery_.draining();
  if (gauges_.gauges().redis_up && !draining) {
    respond.simple(request, 200, "application/json", "{\"redis\":\"up\"}");
  } else if (draining) {
    respond.simple(request, 503, "application/json", "{\"redis\":\"up\",\"state\":\"draining\"}",
                   "Retry-After: 1\r\n");
  } else {
    respond.simple(request, 503, "application/json", "{\"redis\":\"down\"}", "Retry-After: 1\r\n");
  }
}

}  // namespace comet
