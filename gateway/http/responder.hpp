// How the gateway answers a request: status line and headers, CORS for the
// allowed origins, the JSON error body, the poll response (JSON or JSONP)
// and the SSE text of a batch, each response counted in the Stats. Bytes
// that every waiter released with one batch shares are built once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fcgi/reject.hpp"
#include "fcgi/request.hpp"
#include "gateway/core/batch.hpp"
#include "gateway/http/http_error.hpp"
#include "gateway/http/stats.hpp"
#include "gateway/util/log.hpp"

namespace comet {

class Responder {
 public:
  // `log` outlives the Responder.
  Responder(Stats& stats, std::vector<std::string> cors_origins, const Logger& log);

  // The request's Origin when it is on the allow-list, else empty.
  std::string allowed_origin(const fcgi::Request& request) const;
  std::string allowed_origin(std::string_view origin) const;
  // What fcgi/ refuses on its own (413, 503), with CORS headers when the
  // request's Origin is known and allowed (Server::set_reject_writer).
  fcgi::Response reject(const fcgi::Reject& r) const;
  // Access-Control-Allow-Origin and Vary for `origin` (nothing when empty).
  void cors_headers(std::string& head, const std::string& origin) const;

  // {"error":..,"message":..} with `error.status`; `extra` is more header
  // lines ("Retry-After: 1\r\n").
  void error(fcgi::Request& request, const HttpError& error, std::string_view extra = {});
  // The same for a request whose inputs are dropped (Request::drop_inputs):
  // its Origin, checked before, is `origin`.
  void error_after_inputs(fcgi::Request& request, const HttpError& error,
                          const std::string& origin);
  void simple(fcgi::Request& request, int status, std::string_view content_type, std::string body,
              std::string_view extra = {});
  // 204 to an OPTIONS request, with the CORS preflight answer for allowed
  // origins.
  void options(fcgi::Request& request, std::string_view allow);

  // A poll response for `batch` (JSONP with `callback`), and its messages'
  // delivery latency observed.
  void batch(fcgi::Request& request, const Batch& batch, const std::string& callback,
             const std::string& origin);
  // The SSE text of `batch`, shared by every stream released with it.
  std::shared_ptr<const std::string> sse_events(const Batch& batch);
  // Observes the delivery latency of the messages in `batch`.
  void count_delivery(const Batch& batch);
  void count(int status) { stats_.count_response(status); }
  // A request refused for a budget (ClientBudget, the Hub's totals), from
  // `client` (its ClientBudget key): counted by reason, and logged the
  // 1st, 10th, 100th, ... time for each reason, so that a flood of them
  // says what it is without flooding the log.
  void refused(std::string_view reason, std::string_view client);

 private:
  void answer_error(fcgi::Request& request, const HttpError& error, std::string_view extra,
                    const std::string& origin);
  void answer(fcgi::Request& request, int status, std::string_view content_type, std::string body,
              std::string_view extra, const std::string& origin);

  Stats& stats_;
  std::vector<std::string> cors_origins_;
  const Logger& log_;
  // The last batch body and its complete JSON response (head + body),
  // shared by every plain poll released with it. Holding the key keeps its
  // address from being reused by another batch.
  std::shared_ptr<const std::string> plain_response_key_;
  std::shared_ptr<const std::string> plain_response_;
  std::shared_ptr<const std::string> sse_cache_key_;
  std::shared_ptr<const std::string> sse_cache_;
};

}  // namespace comet
