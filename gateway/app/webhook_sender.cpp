#include "gateway/app/webhook_sender.hpp"

#include "gateway/util/wall_clock.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <random>

#include "gateway/http/webhook_json.hpp"
#include "gateway/http/webhook_signature.hpp"

namespace comet {
namespace {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

constexpr auto kWindow = std::chrono::milliseconds(100);
constexpr std::size_t kMaxBatch = 1000;

Backoff::Random random_source() {
  auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [rng](std::uint64_t bound) {
    return std::uniform_int_distribution<std::uint64_t>(0, bound)(*rng);
  };
}

std::string seconds_text(Clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

}  // namespace

// One URL: its queue, and the POST out (resolve, connect, write, read the
// answer's header) under one deadline.
class WebhookSender::Target {
 public:
  Target(WebhookSender& owner, WebhookUrl url)
      : owner_(owner),
        url_(std::move(url)),
        queue_(owner.options_.queue, random_source()),
        resolver_(owner.io_),
        socket_(owner.io_),
        wake_timer_(owner.io_),
        attempt_timer_(owner.io_) {}

  void push(const WebhookQueue::BatchPtr& b) {
    const auto before = queue_.counters().dropped_queue_full;
    if (const std::size_t dropped = queue_.push(b)) {
      const auto after = before + dropped;
      // The 1st, 10th, 100th, ... dropped event is logged.
      std::uint64_t p = 1;
      while (p <= before && p <= UINT64_MAX / 10) p *= 10;
      if (p > before && p <= after) {
        owner_.log_.log(LogLevel::warn, "webhook",
                        url_.text + ": queue full, dropped the oldest " + std::to_string(dropped) +
                            " events waiting; " + std::to_string(after) +
                            " dropped so far (logged at the 1st, 10th, 100th, ...)");
      }
    }
    pump();
  }

  // Stops the POST out and drops everything queued; returns how many.
  std::size_t give_up() {
    lifetime_.renew();
    error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
    attempt_timer_.cancel();
    wake_timer_.cancel();
    wake_at_.reset();
    return queue_.give_up();
  }

  const WebhookQueue& queue() const { return queue_; }

 private:
  // Starts the attempt that is due, or sets the timer for when one will be.
  void pump() {
    if (queue_.in_flight()) return;
    const auto now = Clock::now();
    if (const WebhookBatch* b = queue_.next_attempt(now)) {
      start(*b, now);
      return;
    }
    const auto next = queue_.next_wakeup();
    if (!next || (wake_at_ && *wake_at_ <= *next)) return;
    wake_at_ = *next;
    wake_timer_.expires_at(*next);
    wake_timer_.async_wait([this, alive = lifetime_.watch()](const error_code& ec) {
      if (ec || !alive.alive()) return;
      wake_at_.reset();
      pump();
    });
  }

  void start(const WebhookBatch& b, Clock::time_point now) {
    if (queue_.attempts() == 1) {
      // Once per batch: a retry sends the same bytes.
      request_ = {};
      request_.method(http::verb::post);
      request_.target(url_.target);
      request_.version(11);
      request_.set(http::field::host, url_.host_header);
      request_.set(http::field::user_agent, std::string("comet-gateway/") + COMET_VERSION);
      request_.set(http::field::content_type, "application/json");
      request_.set(http::field::connection, "close");
      request_.set("X-Comet-Signature", webhook_signature(owner_.options_.secret, b.body));
      request_.body() = b.body;
      request_.prepare_payload();
    }
    batch_size_ = b.events;
    first_attempt_ = queue_.attempts() == 1;
    started_ = now;
    timed_out_ = false;
    attempt_timer_.expires_after(owner_.options_.timeout);
    attempt_timer_.async_wait([this, alive = lifetime_.watch()](const error_code& ec) {
      if (ec || !alive.alive()) return;
      // The operation out completes with an error and finishes the attempt.
      timed_out_ = true;
      error_code ignored;
      resolver_.cancel();
      socket_.close(ignored);
    });
    resolver_.async_resolve(
        url_.host, url_.port,
        [this, alive = lifetime_.watch()](const error_code& ec, tcp::resolver::results_type r) {
          if (!alive.alive()) return;
          if (ec) return finish(false, "cannot resolve " + url_.host + ": " + ec.message());
          boost::asio::async_connect(
              socket_, r, [this, alive](const error_code& ec, const tcp::endpoint&) {
                if (!alive.alive()) return;
                if (ec) return finish(false, "cannot connect: " + ec.message());
                http::async_write(socket_, request_,
                                  [this, alive](const error_code& ec, std::size_t) {
                                    if (!alive.alive()) return;
                                    if (ec) return finish(false, "cannot send: " + ec.message());
                                    read_answer();
                                  });
              });
        });
  }

  void read_answer() {
    buffer_.clear();
    parser_.emplace();
    http::async_read_header(socket_, buffer_, *parser_,
                            [this, alive = lifetime_.watch()](const error_code& ec, std::size_t) {
                              if (!alive.alive()) return;
                              if (ec) return finish(false, "no answer: " + ec.message());
                              const unsigned status = parser_->get().result_int();
                              finish(status >= 200 && status < 300,
                                     "answered " + std::to_string(status));
                            });
  }

  void finish(bool acknowledged, const std::string& outcome) {
    attempt_timer_.cancel();
    error_code ignored;
    socket_.close(ignored);
    const auto now = Clock::now();
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(now - started_);
    auto& log = owner_.log_;
    if (acknowledged) {
      queue_.acknowledged();
      if (log.enabled(LogLevel::debug)) {
        log.log(LogLevel::debug, "webhook",
                url_.text + ": " + std::to_string(batch_size_) + " events delivered (" + outcome +
                    ") in " + std::to_string(took.count()) + " us");
      }
    } else {
      const std::string why =
          timed_out_ ? "timed out after " + seconds_text(owner_.options_.timeout) : outcome;
      if (const std::size_t dropped = queue_.failed(now)) {
        log.log(LogLevel::warn, "webhook",
                url_.text + ": dropped a batch of " + std::to_string(dropped) +
                    " events, not acknowledged within " +
                    seconds_text(owner_.options_.queue.retry_for) + " (last attempt: " + why + ")");
      } else if (first_attempt_) {
        log.log(LogLevel::warn, "webhook",
                url_.text + ": POST failed (" + why + "); retrying for up to " +
                    seconds_text(owner_.options_.queue.retry_for));
      } else if (log.enabled(LogLevel::debug)) {
        log.log(LogLevel::debug, "webhook", url_.text + ": POST failed again (" + why + ")");
      }
    }
    pump();
    if (queue_.empty()) owner_.target_idle();
  }

  WebhookSender& owner_;
  WebhookUrl url_;
  WebhookQueue queue_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  boost::asio::steady_timer wake_timer_;
  std::optional<Clock::time_point> wake_at_;
  boost::asio::steady_timer attempt_timer_;
  http::request<http::string_body> request_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::empty_body>> parser_;
  std::size_t batch_size_ = 0;
  bool first_attempt_ = false;
  bool timed_out_ = false;
  Clock::time_point started_{};
  Lifetime lifetime_;
};

WebhookSender::WebhookSender(boost::asio::io_context& io, WebhookOptions options, Logger& log)
    : io_(io),
      options_(std::move(options)),
      log_(log),
      batcher_(kWindow, kMaxBatch),
      batch_timer_(io),
      grace_timer_(io) {
  for (const auto& url : options_.urls) targets_.push_back(std::make_unique<Target>(*this, url));
}

WebhookSender::~WebhookSender() = default;

void WebhookSender::webhook(WebhookEvent e) {
  batcher_.push(std::move(e), Clock::now());
  pump();
}

void WebhookSender::pump() {
  const auto now = Clock::now();
  auto events = batcher_.take(now);
  if (!events.empty()) {
    const auto time_ms = wall_ms();
    auto batch = std::make_shared<const WebhookBatch>(
        WebhookBatch{events.size(), now, webhook_body(events, time_ms)});
    for (auto& t : targets_) t->push(batch);
  }
  const auto next = batcher_.next_wakeup();
  if (!next || (batch_at_ && *batch_at_ <= *next)) return;
  batch_at_ = *next;
  batch_timer_.expires_at(*next);
  batch_timer_.async_wait([this, alive = lifetime_.watch()](const error_code& ec) {
    if (ec || !alive.alive()) return;
    batch_at_.reset();
    pump();
  });
}

void WebhookSender::drain(std::chrono::milliseconds grace, std::function<void()> done) {
  drained_ = std::move(done);
  batcher_.drain();
  pump();
  grace_timer_.expires_after(grace);
  grace_timer_.async_wait([this, alive = lifetime_.watch()](const error_code& ec) {
    if (ec || !alive.alive() || !drained_) return;
    // Draining, the batcher hands out what waits at once: empty but for
    // events that came within this turn.
    std::size_t dropped = batcher_.pending() * targets_.size();
    batcher_ = WebhookBatcher(kWindow, kMaxBatch);
    batch_timer_.cancel();
    for (auto& t : targets_) dropped += t->give_up();
    log_.log(LogLevel::warn, "webhook",
             "shutdown: dropped " + std::to_string(dropped) +
                 " webhook events not delivered within the shutdown grace");
    std::exchange(drained_, nullptr)();
  });
  boost::asio::post(io_, [this, alive = lifetime_.watch()] {
    if (alive.alive()) target_idle();
  });
}

void WebhookSender::target_idle() {
  if (!drained_ || batcher_.pending() > 0) return;
  for (const auto& t : targets_) {
    if (!t->queue().empty()) return;
  }
  grace_timer_.cancel();
  log_.log(LogLevel::info, "webhook", "shutdown: every queued webhook event was delivered");
  std::exchange(drained_, nullptr)();
}

WebhookCounters WebhookSender::counters() const {
  WebhookCounters sum;
  for (const auto& t : targets_) {
    const auto& c = t->queue().counters();
    sum.events_sent += c.events_sent;
    sum.batches_sent += c.batches_sent;
    sum.failures += c.failures;
    sum.dropped_queue_full += c.dropped_queue_full;
    sum.dropped_expired += c.dropped_expired;
  }
  return sum;
}

std::size_t WebhookSender::queued() const {
  std::size_t n = batcher_.pending() * targets_.size();
  for (const auto& t : targets_) n += t->queue().queued();
  return n;
}

}  // namespace comet
