#include "gateway/redis/commands.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

using Args = std::vector<std::string>;

TEST(AuthCommand, AclUserLegacyAndNone) {
  EXPECT_EQ(auth_command("alice", "s3cret"), (Args{"AUTH", "alice", "s3cret"}));
  EXPECT_EQ(auth_command("", "s3cret"), (Args{"AUTH", "s3cret"}));
  EXPECT_EQ(auth_command("", ""), Args{});
  // A user with an empty password is still an ACL AUTH (nopass users).
  EXPECT_EQ(auth_command("bob", ""), (Args{"AUTH", "bob", ""}));
  // Binary-safe: passwords may hold anything.
  EXPECT_EQ(auth_command("", std::string("p\0@ss", 5)), (Args{"AUTH", std::string("p\0@ss", 5)}));
}

TEST(SentinelAuthCommand, OnlyWithASentinelPassword) {
  RedisUrl url;
  url.password = "the master's";
  EXPECT_EQ(sentinel_auth_command(url), Args{});
  url.sentinel_username = "watcher";
  EXPECT_EQ(sentinel_auth_command(url), Args{});
  url.sentinel_password = "s";
  EXPECT_EQ(sentinel_auth_command(url), (Args{"AUTH", "watcher", "s"}));
  url.sentinel_username.clear();
  EXPECT_EQ(sentinel_auth_command(url), (Args{"AUTH", "s"}));
}

TEST(FunctionLoadCommand, CarriesTheSourceVerbatim) {
  const std::string lib = "#!lua name=comet_v1\nredis.register_function('f', function() end)\n";
  EXPECT_EQ(function_load_command(lib), (Args{"FUNCTION", "LOAD", lib}));
}

}  // namespace
}  // namespace comet
