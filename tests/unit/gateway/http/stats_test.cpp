#include "gateway/http/stats.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

TEST(Stats, RendersTheMetricNamesOfTheContract) {
  Stats s;
  s.count_response(200);
  s.count_response(200);
  s.count_response(404);
  s.delivery_latency().observe(0.0005);
  s.delivery_latency().observe(0.2);
  Gauges g;
  g.parked = 7;
  g.fcgi_connections = 3;
  g.channels = 2;
  g.redis_up = true;
  g.redis_reconnects = 1;
  g.stream_reads_pending = 4;
  g.stream_read_bytes = 4096;
  g.positions_refused[static_cast<std::size_t>(PositionRefusal::per_poll)] = 60;
  g.positions_unmatched = 2;
  HubCounters h;
  h.messages_received = 11;
  h.messages_delivered = 13;
  h.gaps = 5;
  const std::string text = s.render(g, h);
  for (const char* line : {"comet_parked_requests 7\n",
                           "comet_fcgi_connections 3\n",
                           "comet_channels 2\n",
                           "comet_messages_received_total 11\n",
                           "comet_messages_delivered_total 13\n",
                           "comet_responses_total{code=\"200\"} 2\n",
                           "comet_responses_total{code=\"404\"} 1\n",
                           "comet_gaps_total 5\n",
                           "comet_redis_up 1\n",
                           "comet_redis_reconnects_total 1\n",
                           "comet_stream_reads_pending 4\n",
                           "comet_stream_read_bytes 4096\n",
                           "comet_cursor_positions_refused_total{reason=\"future\"} 0\n",
                           "comet_cursor_positions_refused_total{reason=\"ahead\"} 0\n",
                           "comet_cursor_positions_refused_total{reason=\"per_poll\"} 60\n",
                           "comet_cursor_positions_refused_total{reason=\"budget\"} 0\n",
                           "comet_cursor_positions_refused_total{reason=\"unmatched\"} 2\n",
                           "comet_delivery_latency_seconds_bucket{le=\"0.001\"} 1\n",
                           "comet_delivery_latency_seconds_bucket{le=\"0.25\"} 2\n",
                           "comet_delivery_latency_seconds_bucket{le=\"+Inf\"} 2\n",
                           "comet_delivery_latency_seconds_count 2\n",
                           "# TYPE comet_delivery_latency_seconds histogram\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST(Stats, RendersTheWebhookCountersAndGauge) {
  Gauges g;
  g.webhook_events_sent = 1200;
  g.webhook_batches_sent = 3;
  g.webhook_failures = 2;
  g.webhook_events_dropped = 10;
  g.webhook_events_queued = 40;
  const std::string text = Stats().render(g, HubCounters{});
  for (const char* line :
       {"comet_webhook_events_sent_total 1200\n", "comet_webhook_batches_sent_total 3\n",
        "comet_webhook_failures_total 2\n", "comet_webhook_events_dropped_total 10\n",
        "# TYPE comet_webhook_events_queued gauge\n", "comet_webhook_events_queued 40\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST(Stats, RefusalsAreCountedByBudget) {
  Stats s;
  s.count_refusal("client_parked");
  s.count_refusal("client_parked");
  s.count_refusal("channels_total");
  Gauges g;
  g.buffered_bytes = 4096;
  g.clients = 3;
  g.fcgi_refused_peers = 2;
  const std::string text = s.render(g, HubCounters{});
  for (const char* line :
       {"comet_refusals_total{reason=\"client_parked\"} 2\n",
        "comet_refusals_total{reason=\"channels_total\"} 1\n",
        // Every budget is listed, refused or not, so dashboards see zeros.
        "comet_refusals_total{reason=\"parked_total\"} 0\n",
        "comet_refusals_total{reason=\"client_channels\"} 0\n", "comet_buffered_bytes 4096\n",
        "comet_clients_parked 3\n", "comet_fcgi_refused_peers_total 2\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace comet
