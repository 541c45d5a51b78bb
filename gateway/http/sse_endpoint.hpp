// GET .../sse: a Server-Sent Events stream. Parses and checks the
// parameters (Last-Event-ID or since), writes the stream's head once the
// cursor is placed, then hands the stream to an SseWaiter.
#pragma once

#include <chrono>
#include <random>

#include "fcgi/request.hpp"
#include "gateway/http/access_control.hpp"
#include "gateway/http/client_budget.hpp"
#include "gateway/http/delivery.hpp"
#include "gateway/http/owner.hpp"
#include "gateway/http/placement.hpp"
#include "gateway/http/poll_params.hpp"
#include "gateway/http/presence_desk.hpp"
#include "gateway/http/query.hpp"
#include "gateway/http/sse_waiter.hpp"

namespace comet {

class SseEndpoint {
 public:
  // Streams end after `lifetime` (less up to 10 % jitter), and when the
  // token they were opened with expires.
  SseEndpoint(Delivery& delivery, Placement& placement, const AccessControl& access,
              ClientBudget& clients, PresenceDesk& presence, PollLimits limits,
              std::chrono::milliseconds lifetime);

  void handle(const fcgi::RequestPtr& request, const Query& query);

  // For the SseWaiters: what they write with, and their end.
  Delivery& delivery() { return delivery_; }
  ClientBudget& clients() { return clients_; }
  PresenceDesk& presence() { return presence_; }
  void finished(SseWaiter& w) { streams_.destroy(w); }

 private:
  void place(const fcgi::RequestPtr& request, PollParams p, std::string head, std::string origin,
             std::string client, Clock::time_point end_at);

  Delivery& delivery_;
  Placement& placement_;
  const AccessControl& access_;
  ClientBudget& clients_;
  PresenceDesk& presence_;
  PollLimits limits_;
  std::chrono::milliseconds lifetime_;
  std::minstd_rand rng_{std::random_device{}()};
  // The open streams (owner.hpp).
  Owner<SseWaiter> streams_;
};

}  // namespace comet
