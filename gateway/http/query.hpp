// The query string of a request, percent-decoded ('+' is a space), with
// repeated keys kept in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace comet {

class Query {
 public:
  // Malformed escapes ("%4", "%zz") make the whole query invalid: a client
  // that sends them has a bug worth a 400, not a silently different value.
  static std::optional<Query> parse(std::string_view text);

  // The first value of `key`, if present.
  std::optional<std::string_view> get(std::string_view key) const;
  std::vector<std::string_view> all(std::string_view key) const;
  // Calls f(value) for every value of `key`, in order.
  template <class F>
  void for_each(std::string_view key, F&& f) const {
    for (const Entry& e : entries_)
      if (key_of(e) == key) f(value_of(e));
  }
  std::size_t size() const { return entries_.size(); }
  std::pair<std::string_view, std::string_view> operator[](std::size_t i) const {
    return {key_of(entries_[i]), value_of(entries_[i])};
  }

 private:
  // Keys and values are decoded into one buffer, back to back: a query
  // costs two allocations, however many parameters it has.
  struct Entry {
    std::uint32_t offset;
    std::uint32_t key_len;
    std::uint32_t value_len;
  };
  std::string_view key_of(const Entry& e) const {
    return std::string_view(decoded_).substr(e.offset, e.key_len);
  }
  std::string_view value_of(const Entry& e) const {
    return std::string_view(decoded_).substr(e.offset + e.key_len, e.value_len);
  }

  std::string decoded_;
  std::vector<Entry> entries_;
};

// Percent-decoding of one component; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace comet
