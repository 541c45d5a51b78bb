// Webhooks out: events are batched once (core/WebhookBatcher), each batch
// encoded once (http/webhook_json) and queued for every --webhook URL,
// whose WebhookQueue (core/) says when to POST and retry; the POST is
// Boost.Beast on the gateway's io_context. One batch is out per URL at a
// time; one connection per POST (Connection: close), so a receiver's
// keep-alive quirks cannot hold a batch.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/app/webhook_options.hpp"
#include "gateway/core/webhook_batcher.hpp"
#include "gateway/core/webhook_event.hpp"
#include "gateway/core/webhook_queue.hpp"
#include "gateway/util/lifetime.hpp"
#include "gateway/util/log.hpp"

namespace comet {

class WebhookSender final : public WebhookSink {
 public:
  // `options.urls` non-empty; `log` outlives the sender.
  WebhookSender(boost::asio::io_context& io, WebhookOptions options, Logger& log);
  ~WebhookSender();

  // Queues `e` for every URL.
  void webhook(WebhookEvent e) override;

  // Shutdown: sends what is queued without waiting for batch windows; once
  // every URL has nothing left, or after `grace`, drops the rest (logged)
  // and calls `done` (never from inside this call).
  void drain(std::chrono::milliseconds grace, std::function<void()> done);

  // Summed over the URLs; an event counts once per URL.
  WebhookCounters counters() const;
  std::size_t queued() const;

 private:
  class Target;
  // Forms the batch that is due, if one is, and queues it for every URL;
  // else sets the timer for when one will be.
  void pump();
  void target_idle();

  boost::asio::io_context& io_;
  WebhookOptions options_;
  Logger& log_;
  WebhookBatcher batcher_;
  boost::asio::steady_timer batch_timer_;
  std::optional<Clock::time_point> batch_at_;
  std::vector<std::unique_ptr<Target>> targets_;
  boost::asio::steady_timer grace_timer_;
  std::function<void()> drained_;
  Lifetime lifetime_;
};

}  // namespace comet
