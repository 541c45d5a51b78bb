#include "gateway/http/stats.hpp"

#include <cstdio>

namespace comet {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help,
            std::uint64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void LatencyHistogram::observe(double seconds, std::uint64_t weight) {
  count_ += weight;
  sum_ += seconds * static_cast<double>(weight);
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) {
      buckets_[i] += weight;
      return;
    }
  }
}

void LatencyHistogram::render(std::string& out, const char* name, const char* help) const {
  const std::string n(name);
  out += "# HELP " + n + ' ' + help + "\n# TYPE " + n + " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i];
    out +=
        n + "_bucket{le=\"" + format_double(bounds[i]) + "\"} " + std::to_string(cumulative) + '\n';
  }
  out += n + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + '\n';
  out += n + "_sum " + format_double(sum_) + '\n';
  out += n + "_count " + std::to_string(count_) + '\n';
}

std::string Stats::render(const Gauges& g, const HubCounters& hub) const {
  std::string out;
  out.reserve(4096);
  metric(out, "comet_parked_requests", "gauge", "Poll requests parked now.", g.parked);
  metric(out, "comet_fcgi_connections", "gauge", "Open FastCGI connections.", g.fcgi_connections);
  metric(out, "comet_fcgi_refused_peers_total", "counter",
         "TCP connections closed at once: their peer is not in --listen-allow.",
         g.fcgi_refused_peers);
  metric(out, "comet_channels", "gauge", "Channels with waiters or buffered messages.", g.channels);
  metric(out, "comet_messages_received_total", "counter", "Messages received from Redis.",
         hub.messages_received);
  metric(out, "comet_messages_delivered_total", "counter", "Message copies written in responses.",
         hub.messages_delivered);
  metric(out, "comet_messages_dropped_total", "counter",
         "Messages evicted from channel buffers (by count, bytes or age).", hub.messages_dropped);
  out += "# HELP comet_responses_total Responses by HTTP status.\n";
  out += "# TYPE comet_responses_total counter\n";
  for (const auto& [code, n] : responses_)
    out +=
        "comet_responses_total{code=\"" + std::to_string(code) + "\"} " + std::to_string(n) + '\n';
  out +=
      "# HELP comet_refusals_total Requests refused for a budget (429 for one client's share, "
      "503 for a total), by budget.\n";
  out += "# TYPE comet_refusals_total counter\n";
  for (const char* reason :
       {"parked_total", "channels_total", "client_parked", "client_channels"}) {
    const auto it = refusals_.find(std::string_view(reason));
    out += std::string("comet_refusals_total{reason=\"") + reason + "\"} " +
           std::to_string(it == refusals_.end() ? 0 : it->second) + '\n';
  }
  for (const auto& [reason, n] : refusals_) {
    if (reason != "parked_total" && reason != "channels_total" && reason != "client_parked" &&
        reason != "client_channels") {
      out += "comet_refusals_total{reason=\"" + reason + "\"} " + std::to_string(n) + '\n';
    }
  }
  metric(out, "comet_buffered_bytes", "gauge", "Message bytes buffered in all channels.",
         g.buffered_bytes);
  metric(out, "comet_clients_parked", "gauge",
         "Clients (addresses, IPv6 /64s) with parked requests.", g.clients);
  metric(out, "comet_gaps_total", "counter", "Channels named in gaps of responses.", hub.gaps);
  metric(out, "comet_redis_up", "gauge", "1 when the Redis subscription is live.",
         g.redis_up ? 1 : 0);
  metric(out, "comet_stream_marks", "gauge",
         "Marks of the pub/sub stream held: 0 while cursors are placed by this gateway only.",
         static_cast<double>(g.stream_marks));
  metric(out, "comet_presence_users", "gauge",
         "Users held on presence channels (a request there, or within the grace).",
         static_cast<double>(g.presence_users));
  metric(out, "comet_presence_lists", "gauge", "Member lists of presence channels kept.",
         static_cast<double>(g.presence_lists));
  metric(out, "comet_redis_reconnects_total", "counter",
         "Redis subscriptions re-established after a loss.", g.redis_reconnects);
  metric(out, "comet_stream_reads_total", "counter",
         "Reads of durable channels' Redis streams (refills).", g.stream_reads);
  metric(out, "comet_stream_read_failures_total", "counter",
         "Stream reads that failed (answered with a gap, or retried).", g.stream_read_failures);
  metric(out, "comet_stream_reads_pending", "gauge",
         "Stream reads in flight and queued (at most --max-stream-reads).", g.stream_reads_pending);
  metric(out, "comet_stream_read_bytes", "gauge",
         "Bytes reserved by stream reads not answered and held by answers (at most "
         "--max-stream-read-bytes).",
         g.stream_read_bytes);
  out +=
      "# HELP comet_cursor_positions_refused_total Durable positions of polls answered "
      "without a stream read, by reason.\n";
  out += "# TYPE comet_cursor_positions_refused_total counter\n";
  static constexpr std::array<const char*, kPositionRefusals + 1> reasons{
      "future", "ahead", "per_poll", "budget", "unmatched"};
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    const std::uint64_t n = i < kPositionRefusals ? g.positions_refused[i] : g.positions_unmatched;
    out += std::string("comet_cursor_positions_refused_total{reason=\"") + reasons[i] + "\"} " +
           std::to_string(n) + '\n';
  }
  metric(out, "comet_durable_duplicates_total", "counter",
         "Durable messages received both live and by a stream read (delivered once).",
         hub.durable_duplicates);
  metric(out, "comet_webhook_events_sent_total", "counter",
         "Webhook events in batches a receiver acknowledged (one count per URL).",
         g.webhook_events_sent);
  metric(out, "comet_webhook_batches_sent_total", "counter",
         "Webhook batches a receiver acknowledged with a 2xx.", g.webhook_batches_sent);
  metric(out, "comet_webhook_failures_total", "counter",
         "Webhook POST attempts that failed (status, connection, time-out).", g.webhook_failures);
  metric(out, "comet_webhook_events_dropped_total", "counter",
         "Webhook events dropped: queue full, not acknowledged within --webhook-retry-for, or "
         "left at shutdown.",
         g.webhook_events_dropped);
  metric(out, "comet_webhook_events_queued", "gauge",
         "Webhook events waiting or being sent, over all URLs.", g.webhook_events_queued);
  delivery_latency_.render(out, "comet_delivery_latency_seconds",
                           "Time from message receipt to the response write.");
  return out;
}

}  // namespace comet
