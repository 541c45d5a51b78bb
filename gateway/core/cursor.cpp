#include "gateway/core/cursor.hpp"

#include <charconv>

namespace comet {

namespace {

constexpr std::string_view kVersion1 = "1.";
constexpr std::string_view kVersion2 = "2.";
constexpr std::string_view kVersion3 = "3.";
constexpr std::size_t kEpochDigits = 16;
constexpr std::size_t kHashDigits = 12;
constexpr std::uint64_t kHashMask = (std::uint64_t{1} << 48) - 1;
// More than any poll may name (--max-channels allows at least 256): a
// longer list was not issued by a gateway.
constexpr std::size_t kMaxPositions = 4096;

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

// A hex number as format_cursor writes it: no leading zeros.
std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  return parse_hex(s);
}

void append_hex(std::string& out, std::uint64_t v, std::size_t width = 0) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  (void)ec;  // 16 digits always fit a uint64
  const auto n = static_cast<std::size_t>(end - buf);
  if (n < width) out.append(width - n, '0');
  out.append(buf, end);
}

std::optional<Position> parse_position(std::string_view s) {
  if (s.size() < kHashDigits + 4 || s[kHashDigits] != '-') return std::nullopt;
  auto hash = parse_hex(s.substr(0, kHashDigits));
  std::string_view id = s.substr(kHashDigits + 1);
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = parse_number(id.substr(0, dash));
  auto seq = parse_number(id.substr(dash + 1));
  if (!hash || !ms || !seq || *hash > kHashMask) return std::nullopt;
  return Position{*hash, StreamId{*ms, *seq}};
}

}  // namespace

std::uint64_t channel_hash(std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h & kHashMask;
}

std::string format_cursor(const Cursor& c) {
  std::string out;
  out.reserve(kVersion1.size() + kEpochDigits + 1 + 16 + c.positions.size() * 40);
  if (c.stream) {
    out.append(kVersion3);
    append_hex(out, c.stream->mark, kEpochDigits);
    out.push_back('.');
    append_hex(out, c.stream->after);
  } else {
    out.append(c.positions.empty() ? kVersion1 : kVersion2);
    append_hex(out, c.epoch, kEpochDigits);
    out.push_back('.');
    append_hex(out, c.seq);
  }
  for (const Position& p : c.positions) {
    out.push_back('.');
    append_hex(out, p.hash, kHashDigits);
    out.push_back('-');
    append_hex(out, p.id.ms);
    out.push_back('-');
    append_hex(out, p.id.seq);
  }
  return out;
}

std::optional<Cursor> parse_cursor(std::string_view text) {
  // v2 has at least one position, v1 none, v3 any number.
  enum class After { none, some, any } after;
  const bool v3 = text.starts_with(kVersion3);
  if (v3) {
    after = After::any;
  } else if (text.starts_with(kVersion2)) {
    after = After::some;
  } else if (text.starts_with(kVersion1)) {
    after = After::none;
  } else {
    return std::nullopt;
  }
  text.remove_prefix(kVersion1.size());
  if (text.size() < kEpochDigits + 2 || text[kEpochDigits] != '.') return std::nullopt;
  auto epoch = parse_hex(text.substr(0, kEpochDigits));
  text.remove_prefix(kEpochDigits + 1);
  const auto dot = text.find('.');
  if (after != After::any && (dot == std::string_view::npos) == (after == After::some)) {
    return std::nullopt;
  }
  auto seq = parse_number(text.substr(0, dot));
  if (!epoch || !seq) return std::nullopt;
  Cursor c;
  if (v3) {
    c.stream = StreamPos{*epoch, *seq};
  } else {
    c.epoch = *epoch;
    c.seq = *seq;
  }
  if (dot == std::string_view::npos) return c;
  std::string_view rest = text.substr(dot + 1);
  for (;;) {
    const auto next = rest.find('.');
    auto p = parse_position(rest.substr(0, next));
    // Sorted and unique, as format_cursor writes them.
    if (!p || c.positions.size() >= kMaxPositions ||
        (!c.positions.empty() && c.positions.back().hash >= p->hash)) {
      return std::nullopt;
    }
    c.positions.push_back(*p);
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return c;
}

}  // namespace comet
