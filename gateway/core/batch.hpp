// What one poll response carries. Waiters released together with the same
// messages share one Batch, and so one encoded body.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/core/cursor.hpp"
#include "gateway/core/message.hpp"

namespace comet {

struct Batch {
  Cursor cursor;  // where the client continues from
  // Where the client was on the channels of the batch (its seq, and the
  // durable positions it had): SSE derives each message's cursor from it.
  Cursor start;
  std::vector<MessagePtr> messages;  // publish order
  std::vector<std::string> gaps;     // channels whose messages were lost
  // Encoded once by the Hub's BatchEncoder (the JSON of http/poll_json.hpp).
  std::shared_ptr<const std::string> body;
};

using BatchPtr = std::shared_ptr<const Batch>;

}  // namespace comet
