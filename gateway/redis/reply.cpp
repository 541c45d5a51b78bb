#include "gateway/redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace comet {

std::string_view reply_text(const redisReply& r) {
  return r.str != nullptr ? std::string_view(r.str, r.len) : std::string_view();
}

bool reply_is_error(const redisReply& r) {
  return r.type == REDIS_REPLY_ERROR;
}

bool function_missing(std::string_view error) {
  // Both capitalisations: Redis 7.0 says "Function not found", and the
  // text is not part of any compatibility promise.
  return error.find("Function not found") != std::string_view::npos ||
         error.find("function not found") != std::string_view::npos;
}

bool library_already_loaded(std::string_view error) {
  return error.find("already exists") != std::string_view::npos;
}

}  // namespace comet
