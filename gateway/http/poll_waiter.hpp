// A long-poll parked in the Hub: the FastCGI request it will answer, and how
// (JSONP callback, CORS origin). Deletes itself once answered or aborted.
#pragma once

#include <string>

#include "fcgi/request.hpp"
#include "gateway/core/waiter.hpp"

namespace comet {

class Delivery;

class PollWaiter final : public Waiter, public fcgi::AbortListener {
 public:
  PollWaiter(Delivery& delivery, fcgi::RequestPtr request, std::string callback,
             std::string origin);

  // For a waiter the Hub answered at once (never parked).
  static void destroy_unparked(PollWaiter* w) { delete w; }

  const fcgi::RequestPtr& request() const { return request_; }
  const std::string& callback() const { return callback_; }
  const std::string& origin() const { return origin_; }

 private:
  ~PollWaiter() override;
  void on_release(const BatchPtr& batch) override;
  void on_abort() override;

  Delivery& delivery_;
  fcgi::RequestPtr request_;
  std::string callback_;
  std::string origin_;  // echoed in Access-Control-Allow-Origin when allowed
};

}  // namespace comet
