// The query string of a request, percent-decoded ('+' is a space), with
// repeated keys kept in order.
#pragma once

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
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Percent-decoding of one component; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace comet
