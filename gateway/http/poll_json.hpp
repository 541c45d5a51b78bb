// The poll response of docs/API.md ("poll"):
//   {"cursor":"..","messages":[{"channel":"..","id":"..","data":".."}],"gaps":[..]}
// with "data_base64" for a payload that is not valid UTF-8, and "gaps" left
// out when empty. The Hub encodes through it (core/batch_encoder.hpp).
// Presence channels' entries take the place of messages:
//   {"channel":"..","id":"..","presence":"join","user":"7","info":{..}}
//   {"channel":"..","id":"..","presence":"leave","user":"7"}
//   {"channel":"..","id":"..","presence":"here","members":[{"user":"7","info":{..}}]}
// ("info" left out when the token gave none).
#pragma once

#include "gateway/core/batch_encoder.hpp"
#include "gateway/core/presence_book.hpp"

namespace comet {

class PollJson final : public BatchEncoder {
 public:
  std::string message(std::string_view channel, std::string_view id,
                      std::string_view payload) const override;
  std::string presence(std::string_view channel, std::string_view id,
                       const PresenceEvent& event) const override;
  std::shared_ptr<const std::string> body(const Batch& batch) const override;
  // The member list of a presence channel, as an entry of a batch.
  static std::string here(std::string_view channel, std::string_view id,
                          const PresenceMembers& members);
};

}  // namespace comet
