#include "gateway/cursor.hpp"

#include <charconv>

namespace comet {

namespace {

constexpr std::string_view kVersion = "1.";
constexpr std::size_t kEpochDigits = 16;

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Strict lowercase hex: from_chars alone would also take uppercase, and
// one position must have one spelling (clients may compare cursors as text).
std::optional<std::uint64_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  for (char c : s) {
    if (!is_lower_hex(c)) return std::nullopt;
  }
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string format_cursor(const Cursor& c) {
  std::string out;
  out.reserve(kVersion.size() + kEpochDigits + 1 + 16);
  out.append(kVersion);
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, c.epoch, 16);
  (void)ec;  // 16 digits always fit a uint64
  out.append(kEpochDigits - static_cast<std::size_t>(end - buf), '0');
  out.append(buf, end);
  out.push_back('.');
  auto [seq_end, seq_ec] = std::to_chars(buf, buf + sizeof buf, c.seq, 16);
  (void)seq_ec;
  out.append(buf, seq_end);
  return out;
}

std::optional<Cursor> parse_cursor(std::string_view text) {
  if (!text.starts_with(kVersion)) return std::nullopt;
  text.remove_prefix(kVersion.size());
  if (text.size() < kEpochDigits + 2 || text[kEpochDigits] != '.') return std::nullopt;
  auto epoch = parse_hex(text.substr(0, kEpochDigits));
  std::string_view seq_text = text.substr(kEpochDigits + 1);
  // No leading zeros: format_cursor never writes them, so such a text was
  // not issued by a gateway.
  if (seq_text.size() > 1 && seq_text[0] == '0') return std::nullopt;
  auto seq = parse_hex(seq_text);
  if (!epoch || !seq) return std::nullopt;
  return Cursor{*epoch, *seq};
}

}  // namespace comet
