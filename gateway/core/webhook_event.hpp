// What the gateway tells the application's back end about its channels, and
// the one entry through which whatever notices such a change (presence)
// hands it on. The wire form (names, JSON, signature) is http/'s.
#pragma once

#include <cstdint>
#include <string>

namespace comet {

struct WebhookEvent {
  enum class Kind : std::uint8_t {
    channel_occupied,
    channel_vacated,
    member_added,
    member_removed
  };
  Kind kind = Kind::channel_occupied;
  std::string channel;
  std::string user_id;  // member_added and member_removed only
};

// Takes an event for every webhook URL; never blocks and never completes
// waiters (the sending happens later, on the event loop).
class WebhookSink {
 public:
  virtual void webhook(WebhookEvent e) = 0;

 protected:
  ~WebhookSink() = default;
};

}  // namespace comet
