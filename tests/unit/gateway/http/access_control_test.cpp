#include "gateway/http/access_control.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

// Made by PHP's hash_hmac with secret "s3cret", as Comet::token does:
// {"ch":["chat.42","user.7.*"],"exp":2000000000}
constexpr std::string_view kToken =
    "eyJjaCI6WyJjaGF0LjQyIiwidXNlci43LioiXSwiZXhwIjoyMDAwMDAwMDAwfQ."
    "tr7fvBrIHqXP5bSLqhZI149DBmQ1QitV2WsWjXSVf-s";
// {"ch":["*"],"exp":1000}
constexpr std::string_view kExpiredWildcard =
    "eyJjaCI6WyIqIl0sImV4cCI6MTAwMH0.8_JB83hiPp59Fmn2y2uZ2lf4T_S00IlZLDHN8uKV0hY";
constexpr std::int64_t kNow = 1'800'000'000;

std::vector<std::string> chans(std::initializer_list<const char*> names) {
  return {names.begin(), names.end()};
}

TEST(AccessControl, OffByDefault) {
  AccessControl ac;
  EXPECT_FALSE(ac.enabled());
  EXPECT_FALSE(ac.check("", chans({"any"}), kNow));
}

TEST(AccessControl, AcceptsAPhpTokenForCoveredChannels) {
  AccessControl ac({"s3cret"});
  EXPECT_FALSE(ac.check(kToken, chans({"chat.42"}), kNow));
  EXPECT_FALSE(ac.check(kToken, chans({"chat.42", "user.7.inbox", "user.7."}), kNow));
}

TEST(AccessControl, RefusesWhatTheTokenDoesNotCover) {
  AccessControl ac({"s3cret"});
  auto e = ac.check(kToken, chans({"chat.42", "chat.43"}), kNow);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 403);
  EXPECT_EQ(e->code, "channel_forbidden");
  EXPECT_TRUE(ac.check(kToken, chans({"chat.4"}), kNow));  // exact names are exact
  EXPECT_TRUE(ac.check(kToken, chans({"user.8.inbox"}), kNow));
}

TEST(AccessControl, RefusesExpiredForeignAndTamperedTokens) {
  AccessControl ac({"s3cret"});
  EXPECT_EQ(ac.check(kExpiredWildcard, chans({"a"}), kNow)->code, "token_expired");
  EXPECT_FALSE(ac.check(kExpiredWildcard, chans({"a"}), 999));  // "*" covers all
  EXPECT_EQ(ac.check(kToken, chans({"chat.42"}), 2'000'000'000)->code, "token_expired");
  EXPECT_EQ(AccessControl({"other"}).check(kToken, chans({"chat.42"}), kNow)->code, "bad_token");
  std::string tampered(kToken);
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ac.check(tampered, chans({"chat.42"}), kNow)->code, "bad_token");
  EXPECT_EQ(ac.check("", chans({"chat.42"}), kNow)->code, "token_required");
  EXPECT_EQ(ac.check("nodot", chans({"chat.42"}), kNow)->code, "bad_token");
  EXPECT_EQ(ac.check("a.b", chans({"chat.42"}), kNow)->code, "bad_token");
  EXPECT_EQ(ac.check("a.!!!", chans({"chat.42"}), kNow)->code, "bad_token");
}

TEST(AccessControl, OnlyTheCanonicalSpellingOfATokenIsAccepted) {
  AccessControl ac({"s3cret"});
  // The signature's last character carries 2 bits that decode to nothing:
  // 's' and 't' give the same 32 bytes, and only 's' is what was issued.
  std::string variant(kToken);
  ASSERT_EQ(variant.back(), 's');
  variant.back() = 't';
  const auto refused = ac.check(variant, chans({"chat.42"}), kNow);
  ASSERT_TRUE(refused) << "a second spelling of the signature was accepted";
  EXPECT_EQ(refused->code, "bad_token");
  EXPECT_FALSE(ac.check(kToken, chans({"chat.42"}), kNow));
}

TEST(AccessControl, RotationAcceptsAnyConfiguredSecret) {
  AccessControl ac({"new-secret", "s3cret"});
  EXPECT_FALSE(ac.check(kToken, chans({"chat.42"}), kNow));
}

TEST(TokenClaims, ParsesOnlyTheIssuedShape) {
  auto c = parse_token_claims(R"( { "exp" : 5 , "ch" : ["a","b*","c\/d"] } )");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->expires, 5);
  EXPECT_EQ(c->channels, chans({"a", "b*", "c/d"}));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"]})"));
  EXPECT_FALSE(parse_token_claims(R"({"exp":1})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"exp":1,"x":2})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"exp":1} trailing)"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a\u0041"],"exp":1})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":"a","exp":1})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"exp":"1"})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"ch":["b"],"exp":1})"));
  EXPECT_FALSE(parse_token_claims(""));
}

TEST(TokenClaims, PrefixCoverage) {
  TokenClaims c{chans({"room.*", "x"}), 0};
  EXPECT_TRUE(token_covers(c, "room.1"));
  EXPECT_TRUE(token_covers(c, "room."));
  EXPECT_FALSE(token_covers(c, "room"));
  EXPECT_TRUE(token_covers(c, "x"));
  EXPECT_FALSE(token_covers(c, "xy"));
}

}  // namespace
}  // namespace comet
