// A long-poll parked in the Hub: the FastCGI request it will answer, and how
// (JSONP callback, CORS origin). Owned by its PollEndpoint, which it tells
// when it is done (answered or aborted).
#pragma once

#include <string>

#include "fcgi/request.hpp"
#include "gateway/http/client_budget.hpp"
#include "gateway/core/waiter.hpp"

namespace comet {

class PollEndpoint;

class PollWaiter final : public Waiter, public fcgi::AbortListener {
 public:
  PollWaiter(PollEndpoint& owner, fcgi::RequestPtr request, std::string callback,
             std::string origin);
  ~PollWaiter() override;

  const fcgi::RequestPtr& request() const { return request_; }
  const std::string& callback() const { return callback_; }
  const std::string& origin() const { return origin_; }
  // Once parked: charged to its client's share until it is done.
  void charge(ClientBudget& clients, const std::string& client) {
    client_ = clients.charge(client, channel_count());
  }

 private:
  void on_release(const BatchPtr& batch) override;
  void on_abort() override;

  PollEndpoint& owner_;
  fcgi::RequestPtr request_;
  std::string callback_;
  std::string origin_;  // echoed in Access-Control-Allow-Origin when allowed
  ClientBudget::Share* client_ = nullptr;
};

}  // namespace comet
