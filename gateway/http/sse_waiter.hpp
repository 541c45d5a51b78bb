// A Server-Sent Events stream: a waiter that, once released, writes its
// events and parks again from the cursor it reached. Ends itself after its
// lifetime (so restarts drain smoothly) or at shutdown, and deletes itself.
#pragma once

#include <string>
#include <vector>

#include "fcgi/request.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/core/cursor.hpp"
#include "gateway/core/hub.hpp"
#include "gateway/core/waiter.hpp"

namespace comet {

class Delivery;

class SseWaiter final : public Waiter, public fcgi::AbortListener {
 public:
  // Writes the stream's head and first events; the object owns itself from
  // here on.
  // `reads`: the stream reads done to place `since` (the endpoint's placement of the cursor).
  static void open(Delivery& delivery, fcgi::RequestPtr request, std::vector<std::string> channels,
                   const Since& since, std::string head, Clock::time_point end_at,
                   const PollReads* reads = nullptr);

  // The text of one batch as events: messages as default-type events whose
  // id is the cursor after them, gaps as a `gap` event, an `id:` line so the
  // browser's Last-Event-ID always names where to resume.
  static std::string encode(const Batch& batch);

 private:
  SseWaiter(Delivery& delivery, fcgi::RequestPtr request, std::vector<std::string> channels,
            Clock::time_point end_at);
  ~SseWaiter() override;
  void on_release(const BatchPtr& batch) override;
  void on_abort() override;
  // Writes batches until one would have to wait, then parks; or ends.
  void pump(BatchPtr batch, Since since, const PollReads* reads = nullptr);

  Delivery& delivery_;
  fcgi::RequestPtr request_;
  std::vector<std::string> channels_;
  Clock::time_point end_at_;
};

}  // namespace comet
