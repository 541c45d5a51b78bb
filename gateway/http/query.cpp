#include "gateway/http/query.hpp"

#include <algorithm>

namespace comet {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the decoding of `text` to `out`; false on a malformed escape.
// Runs without escapes (most of a query) are appended whole.
bool decode_into(std::string_view text, bool plus_is_space, std::string& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t run = i;
    while (run < text.size() && text[run] != '%' && !(plus_is_space && text[run] == '+')) ++run;
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) break;
    if (text[i] == '+') {
      out.push_back(' ');
      ++i;
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 3;
  }
  return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  if (!decode_into(text, plus_is_space, out)) return std::nullopt;
  return out;
}

std::optional<Query> Query::parse(std::string_view text) {
  Query q;
  // Decoding never lengthens: one buffer the size of the text holds it all.
  q.decoded_.reserve(text.size());
  q.entries_.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '&')) + 1);
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view part = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    const std::size_t offset = q.decoded_.size();
    if (!decode_into(part.substr(0, eq), true, q.decoded_)) return std::nullopt;
    const std::size_t key_len = q.decoded_.size() - offset;
    if (eq != std::string_view::npos && !decode_into(part.substr(eq + 1), true, q.decoded_))
      return std::nullopt;
    q.entries_.push_back({static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(key_len),
                          static_cast<std::uint32_t>(q.decoded_.size() - offset - key_len)});
  }
  return q;
}

std::optional<std::string_view> Query::get(std::string_view key) const {
  for (const Entry& e : entries_)
    if (key_of(e) == key) return value_of(e);
  return std::nullopt;
}

std::vector<std::string_view> Query::all(std::string_view key) const {
  std::vector<std::string_view> out;
  for_each(key, [&](std::string_view v) { out.push_back(v); });
  return out;
}

}  // namespace comet
