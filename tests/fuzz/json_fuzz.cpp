// The JSON the gateway writes of bytes it is given (gateway/http/json:
// message payloads, channel names, error texts): append_json_string gives
// one valid JSON string whatever the bytes (checked by nlohmann::json's
// parser), free of what JavaScript would take as a line end (JSONP), equal
// to the input when that is valid UTF-8; is_valid_utf8 agrees with
// nlohmann::json on what UTF-8 is; base64 decodes to the bytes.
#include <nlohmann/json.hpp>

#include <string>

#include "fuzz_input.hpp"
#include "gateway/http/json.hpp"

namespace {

std::string base64_decode(std::string_view s) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* at = std::char_traits<char>::find(alphabet, 64, c);
    FUZZ_CHECK(at != nullptr);
    acc = (acc << 6) | static_cast<std::uint32_t>(at - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string encoded;
  comet::append_json_string(encoded, bytes);
  FUZZ_CHECK(encoded.find("\u2028") == std::string::npos);
  FUZZ_CHECK(encoded.find("\u2029") == std::string::npos);
  const auto parsed = nlohmann::json::parse(encoded, nullptr, false);
  FUZZ_CHECK(!parsed.is_discarded() && parsed.is_string());
  const bool valid = comet::is_valid_utf8(bytes);
  if (valid) FUZZ_CHECK(parsed.get<std::string>() == bytes);

  // nlohmann::json takes a raw string's bytes as they are when they are
  // valid UTF-8 (and no quote, backslash or control character).
  bool plain = true;
  for (unsigned char c : bytes) plain = plain && c >= 0x20 && c != '"' && c != '\\';
  if (plain) {
    const auto raw = nlohmann::json::parse("\"" + std::string(bytes) + "\"", nullptr, false);
    FUZZ_CHECK(raw.is_discarded() == !valid);
  }

  std::string b64;
  comet::append_base64(b64, bytes);
  FUZZ_CHECK(b64.size() % 4 == 0 && base64_decode(b64) == bytes);
  return 0;
}
