// The gateway: HTTP semantics of poll/sse/publish/stats/health on top of the
// FastCGI server, the Hub and the Redis subscriber, all owned by one
// io_context. Also the process lifecycle: signals, graceful shutdown.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "fcgi/server.hpp"
#include "gateway/app/config.hpp"
#include "gateway/core/durable_reader.hpp"
#include "gateway/core/hub.hpp"
#include "gateway/http/access_control.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/poll_json.hpp"
#include "gateway/http/publish_access.hpp"
#include "gateway/http/stats.hpp"
#include "gateway/redis/redis_client.hpp"

namespace comet {

class Gateway final : public fcgi::Handler, private Delivery {
 public:
  Gateway(boost::asio::io_context& io, Config config);
  ~Gateway();

  // Binds every listener (throws on failure), connects to Redis, installs
  // signal handlers. The caller then runs the io_context.
  void start();
  // Answers every parked request, stops accepting, lets writes drain, then
  // stops the io_context. What SIGTERM/SIGINT do.
  void shutdown();

  void on_request(const fcgi::RequestPtr& request) override;

  Hub& hub() override { return hub_; }

 private:
  // Delivery (http/delivery.hpp): what the parked requests use.
  bool draining() const override { return draining_; }
  Clock::duration sse_keepalive() const override { return config_.sse_keepalive; }
  void count_delivery(const Batch& batch) override;
  std::shared_ptr<const std::string> sse_events(const Batch& batch) override;
  void schedule_wakeup() override;
  void send_batch(fcgi::Request& request, const Batch& batch, const std::string& callback,
                  const std::string& origin) override;

  void handle_poll(const fcgi::RequestPtr& request, const Query& query);
  void run_poll(const fcgi::RequestPtr& request, PollParams& p, std::string origin,
                const PollReads* reads);
  // Reads what the Hub needs to place `since` on `channels` (durable
  // positions behind, ahead of or outside what it holds), then runs `then`
  // with the reads (nullptr when none were needed: at once). `then` is not
  // called when the request has gone meanwhile; it checks draining_.
  void with_reads(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                  const Since& since, std::function<void(const PollReads*)> then);
  // Reads the stream of every durable window that waits for it (after a
  // Redis loss); retries on a timer while Redis refuses.
  void read_then(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                 const Since& since, std::function<void(const PollReads*)> then);
  struct ReadingPoll;
  void read_round(const std::shared_ptr<ReadingPoll>& rp, std::vector<ReadNeed> needs);
  void read_done(const std::shared_ptr<ReadingPoll>& rp);
  void resync();
  void arm_reader_timer();
  bool send_read(const ReadNeed& need, std::size_t count, DurableReader::Reply reply);
  void handle_sse(const fcgi::RequestPtr& request, const Query& query);
  void handle_publish(const fcgi::RequestPtr& request, const Query& query);
  void handle_stats(fcgi::Request& request);
  void handle_health(fcgi::Request& request);
  void handle_options(fcgi::Request& request, std::string_view allow);
  // Answers 403 and returns false when access control refuses.
  bool authorize(fcgi::Request& request, const PollParams& params);
  void send_error(fcgi::Request& request, const HttpError& error, std::string_view extra = {});
  void send_simple(fcgi::Request& request, int status, std::string_view content_type,
                   std::string body, std::string_view extra = {});
  std::string allowed_origin(const fcgi::Request& request) const;
  void cors_headers(std::string& head, const std::string& origin) const;

  void wait_signal();
  void reload();
  void on_redis_message(std::string_view channel, std::string_view payload, const StreamId* id);

  boost::asio::io_context& io_;
  Config config_;
  PollJson encoder_;
  Hub hub_;
  AccessControl access_;
  PublishAccess publish_access_;
  Stats stats_;
  fcgi::Server server_;
  RedisClient redis_;
  DurableReader reader_;
  // Polls waiting for their stream reads (answered at shutdown).
  std::set<std::shared_ptr<ReadingPoll>> reading_;
  boost::asio::steady_timer resync_timer_;
  bool resync_armed_ = false;
  boost::asio::steady_timer reader_timer_;
  bool reader_timer_armed_ = false;
  boost::asio::steady_timer wakeup_timer_;
  std::optional<Clock::time_point> wakeup_at_;
  boost::asio::signal_set signals_;
  // The last batch body and its complete JSON response (head + body),
  // shared by every plain poll released with it. Holding the key keeps its
  // address from being reused by another batch.
  std::shared_ptr<const std::string> plain_response_key_;
  std::shared_ptr<const std::string> plain_response_;
  std::shared_ptr<const std::string> sse_cache_key_;
  std::shared_ptr<const std::string> sse_cache_;
  std::minstd_rand rng_{std::random_device{}()};
  bool draining_ = false;
  std::uint64_t invalid_channel_messages_ = 0;
};

}  // namespace comet
