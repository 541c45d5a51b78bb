#pragma once

#include <string>

namespace comet {

// An answer the gateway refuses with: status, a stable code for programs,
// and a message for people. Rendered as {"error":code,"message":message}.
struct HttpError {
  int status = 400;
  std::string code;
  std::string message;
};

}  // namespace comet
