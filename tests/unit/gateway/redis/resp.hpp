// Replies for the Redis room's unit tests, built by hiredis' own reader
// from RESP bytes: exactly what a connection hands its callbacks.
#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace comet::test {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

inline Reply resp(const std::string& bytes) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, bytes.data(), bytes.size());
  void* out = nullptr;
  int rc = redisReaderGetReply(reader, &out);
  redisReaderFree(reader);
  EXPECT_EQ(rc, REDIS_OK);
  EXPECT_NE(out, nullptr) << "incomplete RESP";
  return Reply(static_cast<redisReply*>(out));
}

// Shorthands for the common shapes.
inline Reply status(const std::string& s) {
  return resp("+" + s + "\r\n");
}
inline Reply error(const std::string& s) {
  return resp("-" + s + "\r\n");
}
inline Reply integer(long long n) {
  return resp(":" + std::to_string(n) + "\r\n");
}
inline std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

}  // namespace comet::test
