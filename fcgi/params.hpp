// The CGI params of one request, in one buffer: every name and value back to
// back, plus an index. A request's params cost two allocations however many
// the web server sends (nginx sends about twenty), instead of up to two per
// pair, and they are freed as one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fcgi {

class Params {
 public:
  // Appends a pair; names may repeat (lookups find the first).
  void add(std::string_view name, std::string_view value);
  // Room for `bytes` more name and value bytes and `pairs` more pairs.
  void reserve(std::size_t bytes, std::size_t pairs);

  // Value of the first param called `name`, empty when absent.
  std::string_view get(std::string_view name) const;
  std::size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  std::pair<std::string_view, std::string_view> operator[](std::size_t i) const;
  // Name and value bytes held.
  std::size_t bytes() const { return bytes_.size(); }
  // What one pair costs besides its name and value bytes.
  static constexpr std::size_t kPairCost = 3 * sizeof(std::uint32_t);

  // Frees everything.
  void clear();

 private:
  struct Entry {
    std::uint32_t offset;
    std::uint32_t name_len;
    std::uint32_t value_len;
  };
  std::string bytes_;
  std::vector<Entry> index_;
};

}  // namespace fcgi
