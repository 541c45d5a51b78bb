// GET .../stats (Prometheus text exposition) and GET .../health
// (readiness: 200 while subscribed to Redis and not draining).
#pragma once

#include "fcgi/request.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/stats.hpp"

namespace comet {

// Where the gauges come from: read from their owners at each request.
class GaugeSource {
 public:
  virtual Gauges gauges() const = 0;

 protected:
  ~GaugeSource() = default;
};

class StatsEndpoint {
 public:
  StatsEndpoint(Delivery& delivery, const Stats& stats, const GaugeSource& gauges);

  void stats(fcgi::Request& request);
  void health(fcgi::Request& request);

 private:
  Delivery& delivery_;
  const Stats& stats_;
  const GaugeSource& gauges_;
};

}  // namespace comet
