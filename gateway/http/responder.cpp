#include "gateway/http/responder.hpp"

#include <algorithm>
#include <chrono>

#include "gateway/core/clock.hpp"
#include "gateway/http/http_response.hpp"
#include "gateway/http/sse_waiter.hpp"

namespace comet {

Responder::Responder(Stats& stats, std::vector<std::string> cors_origins, const Logger& log)
    : stats_(stats), cors_origins_(std::move(cors_origins)), log_(log) {}

void Responder::refused(std::string_view reason, std::string_view client) {
  const std::uint64_t n = stats_.count_refusal(reason);
  std::uint64_t power = 1;
  while (power < n && power <= UINT64_MAX / 10) power *= 10;
  if (power != n) return;
  log_.log(LogLevel::warn, "http",
           "refused a request (" + std::string(reason) + ") from client " + std::string(client) +
               ": refusal number " + std::to_string(n) +
               " for this reason (the 1st, 10th, 100th, ... are logged)");
}

void Responder::batch(fcgi::Request& request, const Batch& batch, const std::string& callback,
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

void Responder::count_delivery(const Batch& batch) {
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

std::shared_ptr<const std::string> Responder::sse_events(const Batch& batch) {
  // Streams released together share one Batch: encode its events once.
  // Holding the body keeps its address from being reused by another batch.
  if (!batch.body || batch.body != sse_cache_key_) {
    sse_cache_key_ = batch.body;
    sse_cache_ = std::make_shared<const std::string>(SseWaiter::encode(batch));
  }
  return sse_cache_;
}

void Responder::options(fcgi::Request& request, std::string_view allow) {
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

std::string Responder::allowed_origin(const fcgi::Request& request) const {
  return allowed_origin(request.param("HTTP_ORIGIN"));
}

fcgi::Response Responder::reject(const fcgi::Reject& r) const {
  std::string cors;
  cors_headers(cors, allowed_origin(r.origin));
  return reject_response(r, cors);
}

std::string Responder::allowed_origin(std::string_view origin) const {
  if (origin.empty()) return {};
  for (const auto& allowed : cors_origins_) {
    if (allowed == "*" || allowed == origin) return std::string(origin);
  }
  return {};
}

void Responder::cors_headers(std::string& head, const std::string& origin) const {
  if (origin.empty()) return;
  head += "Access-Control-Allow-Origin: ";
  head += origin;
  // A page of another origin may read Retry-After (a 429 or 503 says when
  // to come back); without this, its script cannot see the header.
  head += "\r\nAccess-Control-Expose-Headers: Retry-After\r\nVary: Origin\r\n";
}

void Responder::error(fcgi::Request& request, const HttpError& error, std::string_view extra) {
  answer_error(request, error, extra, allowed_origin(request));
}

void Responder::error_after_inputs(fcgi::Request& request, const HttpError& error,
                                   const std::string& origin) {
  answer_error(request, error, {}, origin);
}

void Responder::answer_error(fcgi::Request& request, const HttpError& error, std::string_view extra,
                             const std::string& origin) {
  if (error.retry_after <= 0) {
    answer(request, error.status, "application/json", error_body(error), extra, origin);
    return;
  }
  std::string headers = "Retry-After: " + std::to_string(error.retry_after) + "\r\n";
  headers += extra;
  answer(request, error.status, "application/json", error_body(error), headers, origin);
}

void Responder::simple(fcgi::Request& request, int status, std::string_view content_type,
                       std::string body, std::string_view extra) {
  answer(request, status, content_type, std::move(body), extra, allowed_origin(request));
}

void Responder::answer(fcgi::Request& request, int status, std::string_view content_type,
                       std::string body, std::string_view extra, const std::string& origin) {
  fcgi::Response r;
  r.head = response_head(status, content_type, body.size());
  r.head += extra;
  cors_headers(r.head, origin);
  r.head += "\r\n";
  r.body = std::make_shared<const std::string>(std::move(body));
  stats_.count_response(status);
  request.respond(std::move(r));
}

}  // namespace comet
