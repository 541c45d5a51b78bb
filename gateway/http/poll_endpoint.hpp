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
#include "gateway/http/presence_desk.hpp"
#include "gateway/http/query.hpp"

#include <unordered_map>

namespace comet {

class PollEndpoint {
 public:
  PollEndpoint(Delivery& delivery, Placement& placement, const AccessControl& access,
               ClientBudget& clients, PresenceDesk& presence, PollLimits limits);

  void handle(const fcgi::RequestPtr& request, const Query& query);

  // For the PollWaiters: what they answer with, and their end.
  Delivery& delivery() { return delivery_; }
  ClientBudget& clients() { return clients_; }
  void finished(PollWaiter& w) {
    if (!holds_.empty()) holds_.erase(&w);
    waiters_.destroy(w);
  }
  // Answers `request` with `batch`, and with the member lists of the
  // presence channels it reports a gap on (first read again if the gap
  // was the subscription's loss, which forgets them).
  void answer(const fcgi::RequestPtr& request, const BatchPtr& batch, const std::string& callback,
              const std::string& origin);

 private:
  void place(const fcgi::RequestPtr& request, PollParams p, std::string origin, std::string client);
  void run(const fcgi::RequestPtr& request, PollParams& p, std::string origin,
           const std::string& client, const PollReads* reads);

  Delivery& delivery_;
  Placement& placement_;
  const AccessControl& access_;
  ClientBudget& clients_;
  PresenceDesk& presence_;
  PollLimits limits_;
  // The parked polls (owner.hpp).
  Owner<PollWaiter> waiters_;
  // The users that parked polls on presence channels hold there.
  std::unordered_map<const PollWaiter*, PresenceHold> holds_;
};

}  // namespace comet
