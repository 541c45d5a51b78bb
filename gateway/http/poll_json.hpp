// The poll response of docs/API.md ("poll"):
//   {"cursor":"..","messages":[{"channel":"..","id":"..","data":".."}],"gaps":[..]}
// with "data_base64" for a payload that is not valid UTF-8, and "gaps" left
// out when empty. The Hub encodes through it (core/batch_encoder.hpp).
#pragma once

#include "gateway/core/batch_encoder.hpp"

namespace comet {

class PollJson final : public BatchEncoder {
 public:
  std::string message(std::string_view channel, std::string_view id,
                      std::string_view payload) const override;
  std::shared_ptr<const std::string> body(const Batch& batch) const override;
};

}  // namespace comet
