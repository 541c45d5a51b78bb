// Tokens (gateway/http/access_control): any token text is refused with a
// 403 unless it is signed; claims JSON that parses, written again as the
// PHP helper writes it, parses to the same claims; and those claims,
// signed, admit exactly the channels they cover until they expire.
#include <fuzzer/FuzzedDataProvider.h>

#include <limits>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/http/access_control.hpp"
#include "gateway/http/json.hpp"
#include "token.hpp"

namespace {

std::string claims_json(const comet::TokenClaims& claims) {
  std::string out = "{\"ch\":[";
  for (std::size_t i = 0; i < claims.channels.size(); ++i) {
    if (i != 0) out.push_back(',');
    comet::append_json_string(out, claims.channels[i]);
  }
  out += "],\"exp\":" + std::to_string(claims.expires);
  if (claims.user) {
    out += ",\"user\":";
    comet::append_json_string(out, *claims.user);
  }
  if (claims.info) out += ",\"info\":" + *claims.info;
  return out + "}";
}

bool same(const comet::TokenClaims& a, const comet::TokenClaims& b) {
  return a.channels == b.channels && a.expires == b.expires && a.user == b.user && a.info == b.info;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string channel = in.ConsumeRandomLengthString(200);
  const std::int64_t now = in.ConsumeIntegral<std::int64_t>();
  const std::string text = in.ConsumeRemainingBytesAsString();
  const comet::AccessControl access({"another-secret", comet::fuzz::kTokenSecret});
  const std::vector<std::string> channels{channel};

  // As a token: the fuzzer cannot forge an HMAC.
  const auto refused = access.check(text, channels, now);
  FUZZ_CHECK(refused && refused->status == 403);
  FUZZ_CHECK(!comet::AccessControl{}.check(text, channels, now));

  // As claims.
  const auto claims = comet::parse_token_claims(text);
  if (!claims) return 0;
  const std::string json = claims_json(*claims);
  const auto again = comet::parse_token_claims(json);
  FUZZ_CHECK(again && same(*again, *claims));
  const std::string token = comet::fuzz::sign_token(json);
  if (token.size() > 8192) return 0;  // refused for its size
  const bool covers = comet::token_covers(*claims, channel);
  if (claims->expires != std::numeric_limits<std::int64_t>::min()) {
    std::optional<comet::TokenClaims> admitted;
    const auto verdict = access.check(token, channels, claims->expires - 1, &admitted);
    FUZZ_CHECK(covers ? !verdict : verdict && verdict->code == "channel_forbidden");
    FUZZ_CHECK(!covers || (admitted && same(*admitted, *claims)));
  }
  const auto expired = access.check(token, channels, claims->expires);
  FUZZ_CHECK(expired && expired->code == "token_expired");
  // Every claim covers what it names.
  for (const auto& c : claims->channels) {
    const std::string named = !c.empty() && c.back() == '*' ? c.substr(0, c.size() - 1) + "x" : c;
    FUZZ_CHECK(comet::token_covers(*claims, named));
  }
  return 0;
}
