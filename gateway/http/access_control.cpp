#include "gateway/http/access_control.hpp"

#include <chrono>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace comet {
namespace {

std::optional<std::string> base64url_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  // The bits left over must be zero: otherwise several spellings decode to
  // the same bytes, and a token would have more than one valid form.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// A cursor over the claims JSON. The PHP helper writes exactly
// {"ch":[...],"exp":N}; this reads that shape with any whitespace and key
// order, and refuses everything else.
struct Reader {
  std::string_view s;
  std::size_t i = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  // Strings without escapes other than "\/" (channel names need none).
  std::optional<std::string> str() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\') {
        if (i + 1 < s.size() && s[i + 1] == '/') {
          out.push_back('/');
          i += 2;
          continue;
        }
        return std::nullopt;
      }
      if (static_cast<unsigned char>(s[i]) < 0x20) return std::nullopt;
      out.push_back(s[i++]);
    }
    if (i >= s.size()) return std::nullopt;
    ++i;
    return out;
  }
  std::optional<std::int64_t> integer() {
    ws();
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc()) return std::nullopt;
    i = static_cast<std::size_t>(p - s.data());
    return v;
  }
};

}  // namespace

std::optional<TokenClaims> parse_token_claims(std::string_view json) {
  Reader r{json};
  TokenClaims claims;
  bool have_ch = false, have_exp = false;
  if (!r.eat('{')) return std::nullopt;
  if (!r.eat('}')) {
    do {
      auto key = r.str();
      if (!key || !r.eat(':')) return std::nullopt;
      if (*key == "ch" && !have_ch) {
        have_ch = true;
        if (!r.eat('[')) return std::nullopt;
        if (!r.eat(']')) {
          do {
            auto name = r.str();
            if (!name) return std::nullopt;
            claims.channels.push_back(std::move(*name));
          } while (r.eat(','));
          if (!r.eat(']')) return std::nullopt;
        }
      } else if (*key == "exp" && !have_exp) {
        have_exp = true;
        auto v = r.integer();
        if (!v) return std::nullopt;
        claims.expires = *v;
      } else {
        return std::nullopt;
      }
    } while (r.eat(','));
    if (!r.eat('}')) return std::nullopt;
  }
  r.ws();
  if (r.i != json.size() || !have_ch || !have_exp) return std::nullopt;
  return claims;
}

bool token_covers(const TokenClaims& claims, std::string_view channel) {
  for (const auto& c : claims.channels) {
    if (!c.empty() && c.back() == '*') {
      if (channel.substr(0, c.size() - 1) == std::string_view(c).substr(0, c.size() - 1))
        return true;
    } else if (c == channel) {
      return true;
    }
  }
  return false;
}

AccessControl::AccessControl(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}

std::optional<HttpError> AccessControl::check(std::string_view token,
                                              std::span<const std::string> channels,
                                              std::int64_t now_unix, std::int64_t* expires) const {
  if (!enabled()) return std::nullopt;
  const auto forbidden = [](std::string code, std::string message) {
    return HttpError{403, std::move(code), std::move(message)};
  };
  if (token.empty()) return forbidden("token_required", "these channels need a token");
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 8192)
    return forbidden("bad_token", "the token is not one this site issued");
  const std::string_view payload = token.substr(0, dot);
  const auto signature = base64url_decode(token.substr(dot + 1));
  if (!signature || signature->size() != 32)
    return forbidden("bad_token", "the token is not one this site issued");

  bool signed_ok = false;
  for (const auto& secret : secrets_) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &mac_len);
    // Constant time: the comparison must not tell how much of a forged
    // signature was right.
    if (mac_len == 32 && CRYPTO_memcmp(mac, signature->data(), 32) == 0) signed_ok = true;
  }
  if (!signed_ok) return forbidden("bad_token", "the token is not one this site issued");

  const auto json = base64url_decode(payload);
  const auto claims = json ? parse_token_claims(*json) : std::nullopt;
  if (!claims) return forbidden("bad_token", "the token's claims are malformed");
  if (claims->expires <= now_unix) return forbidden("token_expired", "the token has expired");
  for (const auto& ch : channels) {
    if (!token_covers(*claims, ch))
      return forbidden("channel_forbidden", "the token does not cover channel " + ch);
  }
  if (expires != nullptr) *expires = claims->expires;
  return std::nullopt;
}

std::optional<HttpError> AccessControl::refusal(std::string_view token,
                                                std::span<const std::string> channels,
                                                std::int64_t* expires) const {
  if (!enabled()) return std::nullopt;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return check(token, channels, now, expires);
}

}  // namespace comet
