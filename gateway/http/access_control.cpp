#include "gateway/http/access_control.hpp"

#include "gateway/http/json.hpp"

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
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  std::optional<std::uint32_t> hex4() {
    if (i + 4 > s.size()) return std::nullopt;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const int d = hex(s[i++]);
      if (d < 0) return std::nullopt;
      v = v << 4 | static_cast<std::uint32_t>(d);
    }
    return v;
  }
  static void utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | cp >> 6));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | cp >> 12));
      out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | cp >> 18));
      out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  // A JSON string, its escapes decoded (PHP's json_encode escapes
  // non-ASCII as a backslash-u escape unless told otherwise). Raw bytes
  // pass as they are.
  std::optional<std::string> str() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      const char ch = s[i++];
      if (static_cast<unsigned char>(ch) < 0x20) return std::nullopt;
      if (ch != '\\') {
        out.push_back(ch);
        continue;
      }
      if (i >= s.size()) return std::nullopt;
      const char e = s[i++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          auto cp = hex4();
          if (!cp) return std::nullopt;
          if (*cp >= 0xd800 && *cp < 0xdc00) {  // a high surrogate: its low half follows
            if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return std::nullopt;
            i += 2;
            auto lo = hex4();
            if (!lo || *lo < 0xdc00 || *lo >= 0xe000) return std::nullopt;
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*lo - 0xdc00);
          } else if (*cp >= 0xdc00 && *cp < 0xe000) {
            return std::nullopt;
          }
          utf8(out, *cp);
          break;
        }
        default:
          return std::nullopt;
      }
    }
    if (i >= s.size()) return std::nullopt;
    ++i;
    // JSON text is UTF-8: what is not was not written by a JSON encoder.
    if (!is_valid_utf8(out)) return std::nullopt;
    return out;
  }
  // Any JSON value, skipped (and checked), nested at most `depth` deep.
  bool value(int depth) {
    ws();
    if (i >= s.size() || depth <= 0) return false;
    const char c = s[i];
    if (c == '"') return str().has_value();
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++i;
      if (eat(close)) return true;
      do {
        if (c == '{' && (!str() || !eat(':'))) return false;
        if (!value(depth - 1)) return false;
      } while (eat(','));
      return eat(close);
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s.substr(i, word.size()) == word) {
        i += word.size();
        return true;
      }
    }
    // A number: -?digits(.digits)?([eE][+-]?digits)?
    const std::size_t start = i;
    if (i < s.size() && s[i] == '-') ++i;
    auto digits = [&] {
      const std::size_t from = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      return i > from;
    };
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (!digits()) return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (!digits()) return false;
    }
    return i > start;
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
      } else if (*key == "user" && !claims.user) {
        auto user = r.str();
        if (!user || user->empty() || user->size() > kMaxUserBytes) return std::nullopt;
        claims.user = std::move(*user);
      } else if (*key == "info" && !claims.info) {
        r.ws();
        const std::size_t start = r.i;
        if (r.i >= json.size() || json[r.i] != '{' || !r.value(16)) return std::nullopt;
        if (r.i - start > kMaxInfoBytes) return std::nullopt;
        claims.info = std::string(json.substr(start, r.i - start));
      } else {
        return std::nullopt;
      }
    } while (r.eat(','));
    if (!r.eat('}')) return std::nullopt;
  }
  r.ws();
  if (r.i != json.size() || !have_ch || !have_exp) return std::nullopt;
  // Info says something of a user: alone, it is not one this site wrote.
  if (claims.info && !claims.user) return std::nullopt;
  return claims;
}

bool matches_pattern(std::span<const std::string> patterns, std::string_view channel) {
  for (const auto& c : patterns) {
    if (!c.empty() && c.back() == '*') {
      if (channel.substr(0, c.size() - 1) == std::string_view(c).substr(0, c.size() - 1))
        return true;
    } else if (c == channel) {
      return true;
    }
  }
  return false;
}

bool token_covers(const TokenClaims& claims, std::string_view channel) {
  return matches_pattern(claims.channels, channel);
}

AccessControl::AccessControl(std::vector<std::string> secrets,
                             std::vector<std::string> public_channels)
    : secrets_(std::move(secrets)), public_(std::move(public_channels)) {}

std::optional<HttpError> AccessControl::check(std::string_view token,
                                              std::span<const std::string> channels,
                                              std::int64_t now_unix,
                                              std::optional<TokenClaims>* claims_out) const {
  if (!enabled()) return std::nullopt;
  // Public channels alone need no token (and a token sent along is not
  // looked at: it cannot take away what is open to all).
  bool all_public = true;
  for (const auto& ch : channels) all_public = all_public && matches_pattern(public_, ch);
  if (all_public) return std::nullopt;
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
    if (!token_covers(*claims, ch) && !matches_pattern(public_, ch))
      return forbidden("channel_forbidden", "the token does not cover channel " + ch);
  }
  if (claims_out != nullptr) *claims_out = *claims;
  return std::nullopt;
}

std::optional<HttpError> AccessControl::refusal(std::string_view token,
                                                std::span<const std::string> channels,
                                                std::optional<TokenClaims>* claims) const {
  if (!enabled()) return std::nullopt;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return check(token, channels, now, claims);
}

}  // namespace comet
