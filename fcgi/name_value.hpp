// FastCGI name-value pairs (PARAMS, GET_VALUES): lengths of 1 byte (< 128) or
// 4 bytes (high bit set), then the name and value bytes. The decoder is
// incremental because a params stream may be cut anywhere by record and read
// boundaries; it holds only the pair being assembled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "fcgi/error.hpp"
#include "fcgi/params.hpp"

namespace fcgi {

class NameValueDecoder {
 public:
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  // `max_bytes` bounds the sum of all name and value lengths, each pair
  // counting `pair_cost` more (what holding it costs, so that a stream of
  // empty pairs is bounded too); it is checked as soon as a pair's lengths
  // are known, before anything is allocated.
  explicit NameValueDecoder(std::size_t max_bytes, std::size_t pair_cost = 0)
      : max_bytes_(max_bytes), pair_cost_(pair_cost) {}

  // Decodes `data`, appending every completed pair to `out`. On error
  // (errc::bad_name_value_length for a single length over the limit,
  // errc::params_too_large for a sum over it) the decoder stays failed.
  void put(std::string_view data, Pairs& out, std::error_code& ec);
  // The same into a request's params: a pair that arrives whole in `data`
  // (nearly all of them) goes there without an intermediate copy.
  void put(std::string_view data, Params& out, std::error_code& ec);
  // End of the stream: errc::truncated_params unless between pairs.
  void finish(std::error_code& ec) const;

  // Name and value bytes accepted so far, with each pair's cost (counted
  // as soon as a pair's lengths are known).
  std::size_t total() const { return total_; }
  // Bytes allocated for the pair being assembled: grows with the bytes that
  // arrived, not with the lengths announced.
  std::size_t buffered_capacity() const { return name_.capacity() + value_.capacity(); }

  // Most bytes reserved up front for a name or a value.
  static constexpr std::size_t kMaxReserve = 1024;

 private:
  enum class State : std::uint8_t { name_len, value_len, name, value, failed };

  template <class Add>
  void put_into(std::string_view data, Add&& add, std::error_code& ec);
  // Consumes length bytes from `data`; true once the length is complete.
  bool take_length(std::string_view& data, std::uint32_t& len);
  // Checks a pair's lengths against the limits and counts them; false (and
  // failed) when they break one.
  bool accept_lengths(std::uint32_t name_len, std::uint32_t value_len, std::error_code& ec);
  void fail(errc e, std::error_code& ec);

  std::size_t max_bytes_;
  std::size_t pair_cost_;
  std::size_t total_ = 0;
  std::string name_;
  std::string value_;
  std::uint32_t name_len_ = 0;
  std::uint32_t value_len_ = 0;
  std::uint8_t len_bytes_[4] = {};
  std::uint8_t len_have_ = 0;
  std::uint8_t failure_ = 0;  // an errc once failed
  State state_ = State::name_len;
};

// Appends one pair in the shortest length form.
void append_name_value(std::string& out, std::string_view name, std::string_view value);

}  // namespace fcgi
