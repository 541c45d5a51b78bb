// A Server-Sent Events stream: a waiter that, once released, writes its
// events and parks again from the cursor it reached. Ends after its
// lifetime (so restarts drain smoothly) or at shutdown, and then tells its
// owner, the SseEndpoint, which destroys it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "fcgi/request.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/cursor.hpp"
#include "gateway/core/hub.hpp"
#include "gateway/core/waiter.hpp"
#include "gateway/http/client_budget.hpp"
#include "gateway/http/presence_desk.hpp"

namespace comet {

class Delivery;
class SseEndpoint;

class SseWaiter final : public Waiter, public fcgi::AbortListener {
 public:
  // The stream's head is written; its first events are not. `client`: its
  // share, charged for its channels, which it gives back at its end.
  // `hold`: its user on its presence channels, for its whole life.
  SseWaiter(SseEndpoint& owner, fcgi::RequestPtr request, std::vector<std::string> channels,
            Clock::time_point end_at, ClientBudget::Share* client, PresenceHold hold = {});
  ~SseWaiter() override;

  // Writes the first events from `since` and parks, or ends the stream
  // (then the owner has destroyed it on return). `reads`: the stream reads
  // done to place `since`. `lists`: presence channels whose member lists
  // come first.
  void start(const Since& since, const PollReads* reads, std::span<const std::string> lists = {});

  // The text of one batch as events: messages as default-type events whose
  // id is the cursor after them, gaps as a `gap` event, an `id:` line so the
  // browser's Last-Event-ID always names where to resume.
  static std::string encode(const Batch& batch);

 private:
  Delivery& delivery();
  void on_release(const BatchPtr& batch) override;
  void on_abort() override;
  // After a gap on presence channels: their member lists, once held.
  void lists_after_gap(const Batch& batch);
  // Writes batches until one would have to wait, then parks; or ends.
  void pump(BatchPtr batch, Since since, const PollReads* reads = nullptr,
            std::span<const std::string> lists = {});

  SseEndpoint& owner_;
  fcgi::RequestPtr request_;
  std::vector<std::string> channels_;
  Clock::time_point end_at_;
  ClientBudget::Share* client_;
  PresenceHold hold_;
};

}  // namespace comet
