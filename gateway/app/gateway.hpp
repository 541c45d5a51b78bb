// The application: owns the Hub, the FastCGI server, the Redis client and
// the endpoints, all on one io_context, and wires them together; the
// process lifecycle (signals, reload, graceful shutdown). The endpoints see
// it only through the narrow interfaces it implements: Delivery, Publisher
// and GaugeSource (http/); what reports channel changes sees it as a
// WebhookSink (core/).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "fcgi/server.hpp"
#include "gateway/app/config.hpp"
#include "gateway/app/cursor_placement.hpp"
#include "gateway/app/occupancy.hpp"
#include "gateway/app/presence.hpp"
#include "gateway/app/webhook_sender.hpp"
#include "gateway/core/hub.hpp"
#include "gateway/core/webhook_event.hpp"
#include "gateway/http/access_control.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/poll_endpoint.hpp"
#include "gateway/http/poll_json.hpp"
#include "gateway/http/publish_access.hpp"
#include "gateway/http/publish_endpoint.hpp"
#include "gateway/http/publisher.hpp"
#include "gateway/http/responder.hpp"
#include "gateway/http/router.hpp"
#include "gateway/http/sse_endpoint.hpp"
#include "gateway/http/stats.hpp"
#include "gateway/http/stats_endpoint.hpp"
#include "gateway/redis/redis_client.hpp"
#include "gateway/util/log.hpp"

namespace comet {

class Gateway final : private Delivery,
                      private Publisher,
                      private GaugeSource,
                      private ChannelCounts,
                      private WebhookSink {
 public:
  // `log` outlives the gateway; SIGHUP sets its level.
  Gateway(boost::asio::io_context& io, Config config, Logger& log);
  ~Gateway();

  // Binds every listener (throws on failure), connects to Redis, installs
  // signal handlers. The caller then runs the io_context.
  void start();
  // Answers every parked request, stops accepting, lets writes drain, then
  // stops the io_context. What SIGTERM/SIGINT do.
  void shutdown();

 private:
  // Delivery
  Hub& hub() override { return hub_; }
  Responder& responder() override { return responder_; }
  bool draining() const override { return draining_; }
  Clock::duration sse_keepalive() const override { return config_.sse_keepalive; }
  void schedule_wakeup() override;
  // Publisher
  bool publish(std::string_view channel, std::string_view payload, bool durable,
               std::function<void(PublishResult)> done) override;
  // ChannelCounts
  bool channel_counts(std::string_view prefix,
                      std::function<void(std::optional<std::vector<ChannelCount>>)> done) override;
  // GaugeSource
  Gauges gauges() const override;
  // WebhookSink: to every --webhook URL; nothing without one.
  void webhook(WebhookEvent e) override;

  void wait_signal();
  void reload();
  void on_redis_message(std::string_view channel, std::string_view payload, const StreamId* id);
  void on_subscribed(bool resumed);
  void on_presence(std::string_view channel, const PresenceEvent& event);

  boost::asio::io_context& io_;
  Logger& log_;
  Config config_;
  PollJson encoder_;
  Hub hub_;
  AccessControl access_;
  PublishAccess publish_access_;
  Stats stats_;
  Responder responder_;
  RedisClient redis_;
  CursorPlacement placement_;
  Presence presence_;
  Occupancy occupancy_;
  ClientBudget clients_;
  PollEndpoint poll_;
  SseEndpoint sse_;
  PublishEndpoint publish_;
  ChannelsEndpoint channels_;
  StatsEndpoint stats_endpoint_;
  Router router_;
  fcgi::Server server_;
  boost::asio::steady_timer wakeup_timer_;
  std::optional<Clock::time_point> wakeup_at_;
  boost::asio::signal_set signals_;
  std::unique_ptr<WebhookSender> webhooks_;  // with --webhook
  bool draining_ = false;
  int stopping_ = 0;  // shutdown steps (connections, webhooks) not done yet
  std::uint64_t invalid_channel_messages_ = 0;
  std::uint64_t invalid_presence_events_ = 0;
};

}  // namespace comet
