// The X-Comet-Signature header of a webhook POST: "sha256=" and the
// lowercase hex of HMAC-SHA256(secret, body); Comet::verifyWebhook checks it.
#pragma once

#include <string>
#include <string_view>

namespace comet {

std::string webhook_signature(std::string_view secret, std::string_view body);

}  // namespace comet
