// Tokens as the site's PHP issues them (clients/php, Comet::token), for the
// fuzz targets that need a valid one: base64url(claims) "." base64url(
// HMAC-SHA256(secret, base64url(claims))).
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

namespace comet::fuzz {

inline const std::string kTokenSecret = "fuzz-token-secret";

inline std::string base64url(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

inline std::string sign_token(std::string_view claims_json,
                              const std::string& secret = kTokenSecret) {
  const std::string payload = base64url(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &mac_len);
  return payload + "." + base64url(std::string_view(reinterpret_cast<char*>(mac), mac_len));
}

}  // namespace comet::fuzz
