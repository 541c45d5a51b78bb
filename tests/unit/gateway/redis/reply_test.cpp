#include "gateway/redis/reply.hpp"

#include <gtest/gtest.h>

#include "tests/unit/gateway/redis/resp.hpp"

namespace comet {
namespace {

TEST(ReplyText, OfStringStatusErrorAndOthers) {
  EXPECT_EQ(reply_text(*test::resp(test::bulk(std::string("a\0b", 3)))), std::string("a\0b", 3));
  EXPECT_EQ(reply_text(*test::status("OK")), "OK");
  EXPECT_EQ(reply_text(*test::error("ERR nope")), "ERR nope");
  EXPECT_EQ(reply_text(*test::integer(7)), "");
  EXPECT_EQ(reply_text(*test::resp("$-1\r\n")), "");
  EXPECT_EQ(reply_text(*test::resp("*1\r\n:1\r\n")), "");
}

TEST(ReplyText, IsError) {
  EXPECT_TRUE(reply_is_error(*test::error("ERR x")));
  EXPECT_FALSE(reply_is_error(*test::status("ERR x")));
}

// Texts as Redis 7.0 sends them.
TEST(FunctionMissing, OnlyAMissingFunction) {
  EXPECT_TRUE(function_missing("ERR Function not found"));
  EXPECT_TRUE(function_missing("ERR function not found"));
  // Redis 6 has no functions at all: loading them cannot help.
  EXPECT_FALSE(function_missing("ERR unknown command 'FCALL_RO', with args beginning with: "));
  // An error raised inside the (loaded) function.
  EXPECT_FALSE(function_missing(
      "ERR user_function:12: Script attempted to access nonexistent global variable 'x' script: "
      "comet_read_v1, on @user_function:12."));
  EXPECT_FALSE(function_missing("WRONGTYPE Operation against a key holding the wrong kind"));
  EXPECT_FALSE(function_missing(""));
}

TEST(LibraryAlreadyLoaded, Detected) {
  EXPECT_TRUE(library_already_loaded("ERR Library 'comet_v1' already exists"));
  EXPECT_FALSE(library_already_loaded("ERR Error compiling function"));
}

}  // namespace
}  // namespace comet
