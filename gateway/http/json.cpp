#include "gateway/http/json.hpp"

#include <cstdint>
#include <cstring>

namespace comet {

namespace {

// Eight bytes at a time (SWAR): payloads are mostly plain ASCII, and a
// byte-at-a-time scan cost ~17 instructions per byte of every message the
// gateway receives. Each test below is exact about whether any byte of the
// word qualifies (which byte is not asked).
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHigh = 0x8080808080808080ULL;

std::uint64_t load_word(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}
// A byte of w equal to zero.
constexpr std::uint64_t zero_byte(std::uint64_t w) {
  return (w - kOnes) & ~w & kHigh;
}
// A byte of w below n (n <= 128).
constexpr std::uint64_t byte_below(std::uint64_t w, std::uint64_t n) {
  return (w - kOnes * n) & ~w & kHigh;
}
// A byte JSON must escape or that is not ASCII: < 0x20, '"', '\\', >= 0x80.
constexpr bool needs_care(std::uint64_t w) {
  return (byte_below(w, 0x20) | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) |
          (w & kHigh)) != 0;
}

}  // namespace

namespace detail {

std::size_t utf8_sequence_length(std::string_view s) {
  if (s.empty()) return 0;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  // The ranges of the second byte are what exclude overlong forms (C0, C1,
  // E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points past
  // U+10FFFF (F4 90.., F5..FF): RFC 3629 section 4.
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return len;
}

}  // namespace detail

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes copied through unchanged
  std::size_t i = 0;
  auto copy_run = [&] { out.append(s.data() + run, i - run); };
  while (i < s.size()) {
    if (i + 8 <= s.size() && !needs_care(load_word(s.data() + i))) {
      i += 8;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c < 0x80) {
      copy_run();
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        default:
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
      }
      run = ++i;
      continue;
    }
    const std::size_t len = detail::utf8_sequence_length(s.substr(i));
    if (len == 0) {
      copy_run();
      out.append("\\ufffd");
      run = ++i;
      continue;
    }
    if (len == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      copy_run();
      out.append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
      i += 3;
      run = i;
      continue;
    }
    i += len;
  }
  copy_run();
  out.push_back('"');
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size() && (load_word(s.data() + i) & kHigh) == 0) {
      i += 8;
      continue;
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = detail::utf8_sequence_length(s.substr(i));
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 0x3F]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(kAlphabet[(v >> 6) & 0x3F]);
    out.push_back(kAlphabet[v & 0x3F]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  std::uint32_t v = b(i) << 16;
  if (rest == 2) v |= b(i + 1) << 8;
  out.push_back(kAlphabet[(v >> 18) & 0x3F]);
  out.push_back(kAlphabet[(v >> 12) & 0x3F]);
  out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3F] : '=');
  out.push_back('=');
}

}  // namespace comet
