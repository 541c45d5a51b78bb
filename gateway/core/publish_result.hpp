// What became of a message published through the gateway (HTTP publish):
// the Redis side reports it, the publish endpoint answers with it.
#pragma once

#include <string>

namespace comet {

// The outcome of one publish.
struct PublishResult {
  bool ok = false;
  bool answered = false;    // false: no reply (it may or may not have been published)
  long long receivers = 0;  // PUBLISH's count; 1 for a durable publish
  std::string id;           // a durable publish's stream id
  std::string error;        // when !ok: Redis' error, or why there was no answer
};

}  // namespace comet
