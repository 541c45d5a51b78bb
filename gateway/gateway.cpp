#include "gateway/gateway.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <tuple>

#include "gateway/channel_name.hpp"
#include "gateway/http_response.hpp"
#include "gateway/log.hpp"
#include "gateway/poll_params.hpp"
#include "gateway/poll_waiter.hpp"
#include "gateway/route.hpp"
#include "gateway/sse_waiter.hpp"

namespace comet {
namespace {

std::uint64_t random_epoch() {
  std::random_device rd;
  std::uint64_t e = 0;
  while (e == 0) e = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return e;
}

HubOptions seeded(HubOptions o) {
  o.seed = random_epoch();
  return o;
}

RedisSubscriberOptions redis_options(const Config& c) {
  RedisSubscriberOptions o;
  o.url = c.redis;
  o.prefix = c.prefix;
  o.heartbeat_interval = c.heartbeat_interval;
  return o;
}

constexpr std::string_view kGetOnly = "GET, OPTIONS";

}  // namespace

Gateway::Gateway(boost::asio::io_context& io, Config config)
    : io_(io),
      config_(std::move(config)),
      hub_(seeded(config_.hub), random_epoch()),
      access_(config_.token_secrets),
      publish_access_(config_.publish_secrets, config_.publish_allow),
      server_(io, *this, config_.fcgi),
      redis_(io, redis_options(config_),
             RedisSubscriberCallbacks{
                 [this](std::string_view ch, std::string_view payload, const StreamId* id) {
                   on_redis_message(ch, payload, id);
                 },
                 [this] {
                   hub_.flush(Clock::now());
                   schedule_wakeup();
                 },
                 [this](bool resumed) {
                   // Whatever was published before this subscription was confirmed is unseen:
                   // plain channels name a gap to every cursor issued so far (the first time
                   // too, for polls that came in before Redis answered); durable ones read
                   // their streams from where they were.
                   if (resumed || hub_.parked() > 0) {
                     log(LogLevel::warn, "hub",
                         "subscription (re)established: reporting a gap on plain channels to " +
                             std::to_string(hub_.parked()) + " parked requests");
                   }
                   hub_.link_up();
                   hub_.gap_all(Clock::now());
                   resync();
                   schedule_wakeup();
                 },
                 [this] { hub_.link_down(); }, [this] { resync(); }}),
      reader_(DurableReaderOptions{},
              [this](const ReadNeed& need, std::size_t count, DurableReader::Reply reply) {
                return send_read(need, count, std::move(reply));
              }),
      resync_timer_(io),
      reader_timer_(io),
      wakeup_timer_(io),
      signals_(io) {}

Gateway::~Gateway() = default;

void Gateway::start() {
  // Connections the FastCGI server closes on its own (protocol errors,
  // timeouts, limits) are worth a line each.
  server_.set_log_sink([](std::string_view text) { log(LogLevel::warn, "fcgi", text); });
  // Requests fcgi/ answers itself (413, 503) count among the responses too.
  server_.set_reject_sink([this](int status) { stats_.count_response(status); });
  // fcgi/ words nothing itself: its 413s and 503s take the API's JSON error form.
  server_.set_reject_writer([](const fcgi::Reject& r) {
    const std::string body = error_body({r.status, std::string(r.code), r.message});
    fcgi::Response out;
    out.head = response_head(r.status, "application/json", body.size());
    out.head += r.extra_headers;
    out.head += "\r\n" + body;
    return out;
  });
  for (const auto& addr : config_.listen) {
    server_.listen(addr);
  }
  for (std::size_t i = 0; i < config_.listen.size(); ++i) {
    log(LogLevel::info, "fcgi", "listening on " + server_.local_endpoint(i));
  }
  log(LogLevel::info, "redis",
      "subscribing to " + config_.prefix + "* at " + config_.redis.redacted());
  redis_.start();

  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  wait_signal();
}

void Gateway::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      wait_signal();
      return;
    }
    log(LogLevel::info, "main",
        std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": shutting down");
    shutdown();
  });
}

void Gateway::reload() {
  // Only the log level changes without a restart; parked requests are kept.
  try {
    std::vector<const char*> argv;
    for (const auto& a : config_.args) argv.push_back(a.c_str());
    const auto cl = parse_command_line(static_cast<int>(argv.size()), argv.data());
    set_log_level(cl.config.log_level);
    config_.log_level = cl.config.log_level;
    log(LogLevel::info, "main",
        "SIGHUP: configuration read again; log level applied, other settings apply at the "
        "next start");
  } catch (const std::exception& e) {
    log(LogLevel::error, "main", std::string("SIGHUP: configuration not reloaded: ") + e.what());
  }
}

void Gateway::shutdown() {
  if (draining_) return;
  draining_ = true;
  const auto parked = hub_.parked();
  // Every parked poll gets a valid, empty answer with its cursor, so its
  // client resumes elsewhere (or after the restart) without loss.
  hub_.release_all();
  // Polls still reading their streams: answered unchanged (see with_reads).
  reader_.fail_all();
  reader_timer_.cancel();
  redis_.cancel_syncs();  // polls waiting on a barrier: answered unchanged
  log(LogLevel::info, "main", "answered " + std::to_string(parked) + " parked requests");
  resync_timer_.cancel();
  wakeup_timer_.cancel();
  server_.shutdown(config_.shutdown_grace, [this] {
    redis_.stop();
    signals_.cancel();
    log(LogLevel::info, "main", "stopped");
    io_.stop();
  });
}

void Gateway::on_redis_message(std::string_view channel, std::string_view payload,
                               const StreamId* id) {
  if (!is_valid_channel_name(channel)) {
    // Published by something else under our prefix: no client can name it.
    if (invalid_channel_messages_++ % 1000 == 0) {
      log(LogLevel::warn, "redis",
          "ignoring a message on a channel name clients cannot use (1 in 1000 logged)");
    }
    return;
  }
  hub_.publish(channel, payload, Clock::now(), id);
}

bool Gateway::send_read(const ReadNeed& need, std::size_t count, DurableReader::Reply reply) {
  // The token is taken now, when Redis gets the read: whether the answer
  // may sync a window depends on what the subscription did since then.
  const ReadToken token = hub_.read_token(need.channel);
  return redis_.read_stream(
      stream_key(config_.prefix, need.channel), need.from, count,
      [this, need, token, reply = std::move(reply)](std::optional<StreamRead> read) {
        if (read && !draining_)
          hub_.apply_read(need.channel, need.from, *read, token, Clock::now());
        reply(read);  // the polls waiting for it, which see the applied read
        if (draining_) return;
        // Parked polls that the read gave messages to.
        hub_.flush(Clock::now());
        schedule_wakeup();
        if (read) {
          resync();  // a window may need the next part
        } else if (!resync_armed_ && !hub_.resyncs_needed().empty()) {
          resync_armed_ = true;
          resync_timer_.expires_after(std::chrono::milliseconds(500));
          resync_timer_.async_wait([this](const boost::system::error_code& ec) {
            resync_armed_ = false;
            if (!ec) resync();
          });
        }
      });
}

void Gateway::arm_reader_timer() {
  // Reads waiting for the command connection fail after a while (the poll
  // then reports a gap rather than hang).
  const auto next = reader_.next_expiry();
  if (!next || reader_timer_armed_) return;
  reader_timer_armed_ = true;
  reader_timer_.expires_at(*next);
  reader_timer_.async_wait([this](const boost::system::error_code& ec) {
    reader_timer_armed_ = false;
    if (ec) return;
    reader_.expire(Clock::now());
    arm_reader_timer();
  });
}

void Gateway::resync() {
  // Only while subscribed: a read sent before the subscription is back
  // could not sync anything.
  if (draining_ || !redis_.up()) return;
  bool refused = false;
  for (const ReadNeed& need : hub_.resyncs_needed()) {
    if (reader_.pending(need)) continue;
    if (!reader_.read(
            need, [](const DurableReader::Result&) {}, Clock::now()))
      refused = true;
  }
  arm_reader_timer();
  if (refused && !resync_armed_) {
    // Redis refuses reads now (command connection down): on_command_ready
    // calls again, and so does this timer, whichever is first.
    resync_armed_ = true;
    resync_timer_.expires_after(std::chrono::milliseconds(500));
    resync_timer_.async_wait([this](const boost::system::error_code& ec) {
      resync_armed_ = false;
      if (!ec) resync();
    });
  }
}

struct Gateway::ReadingPoll {
  fcgi::RequestPtr request;
  std::vector<std::string> channels;
  Since since;
  std::function<void(const PollReads*)> then;
  PollReads reads;
  std::size_t outstanding = 0;
  int round = 0;
};

void Gateway::with_reads(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                         const Since& since, std::function<void(const PollReads*)> then) {
  // Another gateway's cursor (or this one's before a restart): its plain
  // channels are answered with a gap, and from then on with what this
  // gateway receives. That gateway may have heard (and delivered) messages
  // this one has not received yet; with a barrier on the subscription first,
  // they are all below the new cursor, so none is delivered twice.
  const bool foreign = since.kind == Since::Kind::cursor && since.cursor.epoch != hub_.epoch();
  if (foreign && !draining_) {
    auto state = std::make_shared<
        std::tuple<std::vector<std::string>, Since, std::function<void(const PollReads*)>>>(
        std::move(channels), since, std::move(then));
    bool waiting = redis_.sync([this, request, state](bool) {
      if (request->finished()) return;
      auto& [ch, si, th] = *state;
      read_then(request, std::move(ch), si, std::move(th));
    });
    if (waiting) return;
    auto& [ch, si, th] = *state;
    read_then(request, std::move(ch), si, std::move(th));
    return;
  }
  read_then(request, std::move(channels), since, std::move(then));
}

void Gateway::read_then(const fcgi::RequestPtr& request, std::vector<std::string> channels,
                        const Since& since, std::function<void(const PollReads*)> then) {
  auto needs = hub_.reads_needed(channels, since);
  if (needs.empty()) {
    then(nullptr);
    return;
  }
  auto rp = std::make_shared<ReadingPoll>();
  rp->request = request;
  rp->channels = std::move(channels);
  rp->since = since;
  rp->then = std::move(then);
  reading_.insert(rp);
  read_round(rp, std::move(needs));
}

// One round: every read asked for; the last to come back (or to fail) ends
// it. Reads can move a window (an eviction, another read applied first), so
// a second round follows when the Hub still needs something; a position
// still not placeable after that is a gap.
void Gateway::read_round(const std::shared_ptr<ReadingPoll>& rp, std::vector<ReadNeed> needs) {
  ++rp->round;
  rp->outstanding = needs.size();
  for (ReadNeed& need : needs) {
    const std::string name = need.channel;
    bool asked = reader_.read(
        need,
        [this, rp, name](const DurableReader::Result& r) {
          if (r) rp->reads.insert_or_assign(name, *r);
          read_done(rp);
        },
        Clock::now());
    arm_reader_timer();
    // Only the last one can end the round, so nothing after this in the
    // loop runs once it has.
    if (!asked) read_done(rp);
  }
}

void Gateway::read_done(const std::shared_ptr<ReadingPoll>& rp) {
  if (--rp->outstanding > 0) return;
  if (!draining_ && !rp->request->finished() && rp->round < 2) {
    auto more = hub_.reads_needed(rp->channels, rp->since);
    std::erase_if(more, [&](const ReadNeed& n) {
      auto it = rp->reads.find(n.channel);
      return it != rp->reads.end() && it->second.from == n.from;
    });
    if (!more.empty()) {
      read_round(rp, std::move(more));
      return;
    }
  }
  reading_.erase(rp);
  if (rp->request->finished()) return;  // the client went away meanwhile
  rp->then(&rp->reads);
}

void Gateway::schedule_wakeup() {
  const auto next = hub_.next_wakeup();
  if (!next || draining_) return;
  if (wakeup_at_ && *wakeup_at_ <= *next) return;
  wakeup_at_ = *next;
  wakeup_timer_.expires_at(*next);
  wakeup_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    wakeup_at_.reset();
    hub_.expire(Clock::now());
    schedule_wakeup();
  });
}

void Gateway::on_request(const fcgi::RequestPtr& request) {
  const auto param = [&](std::string_view name) { return request->param(name); };
  const Endpoint endpoint = endpoint_for_path(request_path(param));
  const std::string_view method = request->param("REQUEST_METHOD");

  if (endpoint == Endpoint::unknown) {
    send_error(*request,
               {404, "not_found", "no such endpoint (poll, sse, publish, stats, health)"});
    return;
  }
  if (method == "OPTIONS") {
    handle_options(*request, endpoint == Endpoint::publish ? "POST, OPTIONS" : kGetOnly);
    return;
  }
  const bool want_post = endpoint == Endpoint::publish;
  if ((want_post && method != "POST") || (!want_post && method != "GET")) {
    const std::string allow =
        std::string("Allow: ") + (want_post ? "POST, OPTIONS" : "GET, OPTIONS") + "\r\n";
    send_error(*request,
               {405, "method_not_allowed",
                std::string(endpoint_name(endpoint)) + " takes " + (want_post ? "POST" : "GET")},
               allow);
    return;
  }

  auto query = Query::parse(request->param("QUERY_STRING"));
  if (!query) {
    send_error(*request, {400, "bad_query", "malformed percent-encoding in the query string"});
    return;
  }
  switch (endpoint) {
    case Endpoint::poll:
      handle_poll(request, *query);
      break;
    case Endpoint::sse:
      handle_sse(request, *query);
      break;
    case Endpoint::publish:
      handle_publish(request, *query);
      break;
    case Endpoint::stats:
      handle_stats(*request);
      break;
    case Endpoint::health:
      handle_health(*request);
      break;
    case Endpoint::unknown:
      break;
  }
}

void Gateway::handle_poll(const fcgi::RequestPtr& request, const Query& query) {
  if (draining_) {
    send_error(*request, {503, "shutting_down", "the gateway is restarting; retry"},
               "Retry-After: 1\r\n");
    return;
  }
  auto parsed = parse_poll_params(query, {}, config_.poll);
  if (auto* err = std::get_if<HttpError>(&parsed)) {
    send_error(*request, *err);
    return;
  }
  auto& p = std::get<PollParams>(parsed);
  if (!authorize(*request, p)) return;
  if (p.timeout.count() > 0 && !hub_.can_park()) {
    send_error(*request, {503, "overloaded", "too many parked requests; retry"},
               "Retry-After: 2\r\n");
    return;
  }
  std::string origin = allowed_origin(*request);
  request->drop_inputs();
  auto channels = p.channels;
  const Since since = p.since;
  with_reads(request, std::move(channels), since,
             [this, request, p = std::move(p),
              origin = std::move(origin)](const PollReads* reads) mutable {
               if (draining_) {
                 // Shutting down while reading: the client resumes from the
                 // cursor it sent, elsewhere or after the restart.
                 send_batch(*request, *Hub::unchanged(p.since.cursor), p.callback, origin);
                 return;
               }
               run_poll(request, p, std::move(origin), reads);
             });
}

void Gateway::run_poll(const fcgi::RequestPtr& request, PollParams& p, std::string origin,
                       const PollReads* reads) {
  auto* waiter = new PollWaiter(*this, request, std::move(p.callback), std::move(origin));
  BatchPtr now_batch;
  try {
    now_batch = hub_.poll(*waiter, p.channels, p.since, p.timeout, Clock::now(), reads);
  } catch (const std::invalid_argument&) {
    send_error(*request, {400, "bad_cursor", "since is ahead of every cursor this gateway issued"});
    // Not parked: the hub throws before linking.
    PollWaiter::destroy_unparked(waiter);
    return;
  } catch (const std::length_error&) {
    // Filled up while this poll read its streams.
    send_error(*request, {503, "overloaded", "too many parked requests; retry"},
               "Retry-After: 2\r\n");
    PollWaiter::destroy_unparked(waiter);
    return;
  }
  if (now_batch) {
    send_batch(*request, *now_batch, waiter->callback(), waiter->origin());
    PollWaiter::destroy_unparked(waiter);
    return;
  }
  schedule_wakeup();
}

void Gateway::send_batch(fcgi::Request& request, const Batch& batch, const std::string& callback,
                         const std::string& origin) {
  count_delivery(batch);
  stats_.count_response(200);
  if (callback.empty() && origin.empty()) {
    // The common case: every waiter released with this batch gets the same
    // bytes, head included, so they are built once and shared.
    if (batch.body != plain_response_key_) {
      plain_response_key_ = batch.body;
      std::string full = response_head(200, "application/json", batch.body->size());
      full += "\r\n";
      full += *batch.body;
      plain_response_ = std::make_shared<const std::string>(std::move(full));
    }
    request.respond(fcgi::Response{{}, plain_response_, {}});
    return;
  }
  fcgi::Response r;
  const std::size_t body_size = batch.body->size();
  if (callback.empty()) {
    r.head = response_head(200, "application/json", body_size);
  } else {
    r.head = response_head(200, "application/javascript", callback.size() + 1 + body_size + 2);
  }
  cors_headers(r.head, origin);
  r.head += "\r\n";
  if (!callback.empty()) {
    r.head += callback;
    r.head += '(';
    r.tail = ");";
  }
  r.body = batch.body;
  request.respond(std::move(r));
}

void Gateway::handle_sse(const fcgi::RequestPtr& request, const Query& query) {
  if (draining_) {
    send_error(*request, {503, "shutting_down", "the gateway is restarting; retry"},
               "Retry-After: 1\r\n");
    return;
  }
  PollLimits limits = config_.poll;
  limits.max_timeout = limits.default_timeout = std::chrono::milliseconds(0);  // unused for SSE
  auto parsed = parse_poll_params(query, request->param("HTTP_LAST_EVENT_ID"), limits);
  if (auto* err = std::get_if<HttpError>(&parsed)) {
    send_error(*request, *err);
    return;
  }
  auto& p = std::get<PollParams>(parsed);
  if (!authorize(*request, p)) return;
  if (p.since.kind == Since::Kind::cursor && p.since.cursor.epoch == hub_.epoch() &&
      p.since.cursor.seq > hub_.head().seq) {
    send_error(*request, {400, "bad_cursor", "since is ahead of every cursor this gateway issued"});
    return;
  }
  if (!hub_.can_park()) {
    send_error(*request, {503, "overloaded", "too many parked requests; retry"},
               "Retry-After: 2\r\n");
    return;
  }
  std::string head =
      "Status: 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\n";
  cors_headers(head, allowed_origin(*request));
  head += "\r\nretry: 2000\n\n";
  request->drop_inputs();
  // Streams end after their lifetime, with jitter so that a restart's
  // reconnects spread out.
  const auto lifetime = std::chrono::duration_cast<Clock::duration>(
      config_.sse_lifetime * (1.0 - std::uniform_real_distribution<double>(0, 0.1)(rng_)));
  const Clock::time_point end_at = Clock::now() + lifetime;
  auto channels = p.channels;
  const Since since = p.since;
  with_reads(request, std::move(channels), since,
             [this, request, p = std::move(p), head = std::move(head),
              end_at](const PollReads* reads) mutable {
               if (draining_) {
                 send_error(*request, {503, "shutting_down", "the gateway is restarting; retry"},
                            "Retry-After: 1\r\n");
                 return;
               }
               stats_.count_response(200);  // only now: it could still have been a 503
               SseWaiter::open(*this, request, std::move(p.channels), p.since, std::move(head),
                               end_at, reads);
             });
}

bool Gateway::authorize(fcgi::Request& request, const PollParams& params) {
  if (!access_.enabled()) return true;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (auto refused = access_.check(params.token, params.channels, now)) {
    send_error(request, *refused);
    return false;
  }
  return true;
}

void Gateway::count_delivery(const Batch& batch) {
  // Called once per waiter: a large batch fanned out to many waiters would
  // cost messages x waiters observations, so at most 16 evenly spaced
  // messages are observed, each standing for its share of the batch.
  constexpr std::size_t kSamples = 16;
  const std::size_t n = batch.messages.size();
  if (n == 0) return;
  const auto now = Clock::now();
  const std::size_t step = (n + kSamples - 1) / kSamples;
  for (std::size_t i = 0; i < n; i += step) {
    const std::size_t weight = std::min(step, n - i);
    stats_.delivery_latency().observe(
        std::chrono::duration<double>(now - batch.messages[i]->received).count(), weight);
  }
}

std::shared_ptr<const std::string> Gateway::sse_events(const Batch& batch) {
  // Streams released together share one Batch: encode its events once.
  // Holding the body keeps its address from being reused by another batch.
  if (!batch.body || batch.body != sse_cache_key_) {
    sse_cache_key_ = batch.body;
    sse_cache_ = std::make_shared<const std::string>(SseWaiter::encode(batch));
  }
  return sse_cache_;
}

void Gateway::handle_stats(fcgi::Request& request) {
  Gauges g;
  g.parked = hub_.parked();
  g.fcgi_connections = server_.connections();
  g.channels = hub_.channels();
  g.redis_up = redis_.up();
  g.redis_reconnects = redis_.reconnects();
  g.stream_reads = redis_.reads();
  g.stream_read_failures = redis_.read_failures();
  stats_.count_response(200);  // counted before rendering, so this response is included
  std::string body = stats_.render(g, hub_.counters());
  fcgi::Response r;
  r.head = response_head(200, "text/plain; version=0.0.4; charset=utf-8", body.size()) + "\r\n";
  r.body = std::make_shared<const std::string>(std::move(body));
  request.respond(std::move(r));
}

void Gateway::handle_health(fcgi::Request& request) {
  if (redis_.up() && !draining_) {
    send_simple(request, 200, "application/json", "{\"redis\":\"up\"}");
  } else if (draining_) {
    send_simple(request, 503, "application/json", "{\"redis\":\"up\",\"state\":\"draining\"}",
                "Retry-After: 1\r\n");
  } else {
    send_simple(request, 503, "application/json", "{\"redis\":\"down\"}", "Retry-After: 1\r\n");
  }
}

void Gateway::handle_options(fcgi::Request& request, std::string_view allow) {
  std::string head = "Status: 204 No Content\r\nAllow: " + std::string(allow) + "\r\n";
  const std::string origin = allowed_origin(request);
  if (!origin.empty()) {
    cors_headers(head, origin);
    head += "Access-Control-Allow-Methods: " + std::string(allow) +
            "\r\nAccess-Control-Allow-Headers: Content-Type, Last-Event-ID\r\n"
            "Access-Control-Max-Age: 600\r\n";
  }
  head += "\r\n";
  stats_.count_response(204);
  request.respond(fcgi::Response{std::move(head), nullptr, {}});
}

std::string Gateway::allowed_origin(const fcgi::Request& request) const {
  const std::string_view origin = request.param("HTTP_ORIGIN");
  if (origin.empty()) return {};
  for (const auto& allowed : config_.cors_origins) {
    if (allowed == "*" || allowed == origin) return std::string(origin);
  }
  return {};
}

void Gateway::cors_headers(std::string& head, const std::string& origin) const {
  if (origin.empty()) return;
  head += "Access-Control-Allow-Origin: ";
  head += origin;
  head += "\r\nVary: Origin\r\n";
}

void Gateway::send_error(fcgi::Request& request, const HttpError& error, std::string_view extra) {
  send_simple(request, error.status, "application/json", error_body(error), extra);
}

void Gateway::send_simple(fcgi::Request& request, int status, std::string_view content_type,
                          std::string body, std::string_view extra) {
  fcgi::Response r;
  r.head = response_head(status, content_type, body.size());
  r.head += extra;
  cors_headers(r.head, allowed_origin(request));
  r.head += "\r\n";
  r.body = std::make_shared<const std::string>(std::move(body));
  stats_.count_response(status);
  request.respond(std::move(r));
}

}  // namespace comet
