// How messages and batches are written for clients. The Hub encodes each
// message once, when it is received, and each batch once, however many
// waiters it releases; through this interface, so that the core knows no
// wire format (http/poll_json.hpp is the one the gateway answers with).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace comet {

struct Batch;
struct PresenceEvent;

class BatchEncoder {
 public:
  virtual ~BatchEncoder() = default;
  // One message as it appears in a batch. `id` is its stream id (durable)
  // or the cursor after it (plain). Its size is what the buffer and batch
  // byte bounds count.
  virtual std::string message(std::string_view channel, std::string_view id,
                              std::string_view payload) const = 0;
  // A join or leave on a presence channel as it appears in a batch, in
  // place of a message (`id` as for a plain message).
  virtual std::string presence(std::string_view channel, std::string_view id,
                               const PresenceEvent& event) const = 0;
  // The body of `batch`, whose messages carry their encoded form.
  virtual std::shared_ptr<const std::string> body(const Batch& batch) const = 0;
};

}  // namespace comet
