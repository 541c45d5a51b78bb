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
  EXPECT_FALSE(parse_token_claims(R"({"ch":"a","exp":1})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"exp":"1"})"));
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"ch":["b"],"exp":1})"));
  EXPECT_FALSE(parse_token_claims(""));
}

TEST(TokenClaims, StringsAreJsonStringsOfUtf8) {
  auto c = parse_token_claims(R"({"ch":["a\u0041","\ud83d\ude00","q\"\\\t"],"exp":1})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->channels, chans({"aA", "\xf0\x9f\x98\x80", "q\"\\\t"}));
  for (const char* bad : {R"({"ch":["\ud83d"],"exp":1})", R"({"ch":["\ude00"],"exp":1})",
                          R"({"ch":["\x"],"exp":1})", R"({"ch":["\u12"],"exp":1})",
                          "{\"ch\":[\"\xff\"],\"exp\":1}", "{\"ch\":[\"\x01\"],\"exp\":1}"}) {
    EXPECT_FALSE(parse_token_claims(bad)) << bad;
  }
}

TEST(TokenClaims, UserAndInfo) {
  const std::string info =
      R"({"name":"Ann \u00e9","tags":[1,-2.5e3,true,false,null,{"x":[]}],"e":{}})";
  auto c = parse_token_claims(R"({"ch":["a"],"exp":1,"user":"7","info":)" + info + "}");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "7");
  EXPECT_EQ(c->info, info);  // kept as written
  auto no_info = parse_token_claims(R"({"user":"u@example.org","ch":["a"],"exp":1})");
  ASSERT_TRUE(no_info);
  EXPECT_EQ(no_info->user, "u@example.org");
  EXPECT_FALSE(no_info->info);
  EXPECT_FALSE(parse_token_claims(R"({"ch":["a"],"exp":1})")->user);

  const std::string max_user(kMaxUserBytes, 'u');
  EXPECT_TRUE(parse_token_claims(R"({"ch":[],"exp":1,"user":")" + max_user + "\"}"));
  const std::string big_info = R"({"k":")" + std::string(kMaxInfoBytes - 8, 'x') + "\"}";
  ASSERT_EQ(big_info.size(), kMaxInfoBytes);
  EXPECT_TRUE(parse_token_claims(R"({"ch":[],"exp":1,"user":"7","info":)" + big_info + "}"));
  std::string deep = "{\"a\":";
  for (int i = 0; i < 20; ++i) deep += "[";
  deep += "1";
  for (int i = 0; i < 20; ++i) deep += "]";
  deep += "}";
  for (const std::string& bad : std::vector<std::string>{
           R"({"ch":[],"exp":1,"user":""})",
           R"({"ch":[],"exp":1,"user":")" + max_user + "u\"}",
           R"({"ch":[],"exp":1,"user":7})",
           R"({"ch":[],"exp":1,"user":"7","info":)" + big_info.substr(0, 7) + "xx" +
               big_info.substr(7) + "}",
           R"({"ch":[],"exp":1,"user":"7","info":[1]})",
           R"({"ch":[],"exp":1,"user":"7","info":"x"})",
           R"({"ch":[],"exp":1,"user":"7","info":{"a":}})",
           R"({"ch":[],"exp":1,"user":"7","info":{"a":1,}})",
           R"({"ch":[],"exp":1,"user":"7","info":{"a":01x}})",
           R"({"ch":[],"exp":1,"user":"7","info":)" + deep + "}",
           R"({"ch":[],"exp":1,"info":{}})",  // info without a user
           R"({"ch":[],"exp":1,"user":"7","user":"8"})",
       }) {
    EXPECT_FALSE(parse_token_claims(bad)) << bad;
  }
}

TEST(AccessControl, PublicChannelsNeedNoToken) {
  AccessControl ac({"s3cret"}, chans({"news", "public.*"}));
  std::optional<TokenClaims> claims;
  EXPECT_FALSE(ac.check("", chans({"news"}), kNow, &claims));
  EXPECT_FALSE(claims);  // no token looked at
  EXPECT_FALSE(ac.check("", chans({"public.1", "news", "public."}), kNow));
  // A token sent along for public channels alone is not looked at.
  EXPECT_FALSE(ac.check("not.a-token", chans({"news"}), kNow));
  // A channel that is not public needs the token, which need not name the
  // public ones.
  EXPECT_EQ(ac.check("", chans({"news", "chat.42"}), kNow)->code, "token_required");
  EXPECT_EQ(ac.check("not.a-token", chans({"news", "chat.42"}), kNow)->code, "bad_token");
  EXPECT_FALSE(ac.check(kToken, chans({"news", "chat.42", "public.x"}), kNow, &claims));
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->expires, 2'000'000'000);
  EXPECT_EQ(ac.check(kToken, chans({"news", "chat.43"}), kNow)->code, "channel_forbidden");
  EXPECT_EQ(ac.check("", chans({"publicx"}), kNow)->code, "token_required");
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
