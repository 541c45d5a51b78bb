// GET .../poll: a long-poll (or, with timeout=0, an interval poll). Parses
// and checks the parameters, has the cursor placed, then asks the Hub:
// answered at once, or parked as a PollWaiter until the Hub releases it.
#pragma once

#include "fcgi/request.hpp"
#include "gateway/http/access_control.hpp"
#include "gateway/http/client_budget.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/owner.hpp"
#include "gateway/http/placement.hpp"
#include "gateway/http/poll_params.hpp"
#include "gateway/http/poll_waiter.hpp"
#include "gateway/http/query.hpp"

namespace comet {

class PollEndpoint {
 public:
  PollEndpoint(Delivery& delivery, Placement& placement, const AccessControl& access,
               ClientBudget& clients, PollLimits limits);

  void handle(const fcgi::RequestPtr& request, const Query& query);

  // For the PollWaiters: what they answer with, and their end.
  Delivery& delivery() { return delivery_; }
  ClientBudget& clients() { return clients_; }
  void finished(PollWaiter& w) { waiters_.destroy(w); }

 private:
  void run(const fcgi::RequestPtr& request, PollParams& p, std::string origin,
           const std::string& client, const PollReads* reads);

  Delivery& delivery_;
  Placement& placement_;
  const AccessControl& access_;
  ClientBudget& clients_;
  PollLimits limits_;
  // The parked polls (owner.hpp).
  Owner<PollWaiter> waiters_;
};

}  // namespace comet
