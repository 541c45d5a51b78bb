// Incremental, sans-IO parser of the records a web server sends to a
// responder. put() consumes bytes as they arrive, however the stream is cut,
// and stops after each fragment it produces, Beast-style: the caller handles
// the fragment, then calls put() again with the rest of its input.
//
// Stream records (PARAMS, STDIN, DATA, and unknown management types) are not
// buffered: their content comes out as fragments pointing into the caller's
// input, so a connection holds only partial-record state (the header bytes
// and a small fixed-size body) between reads. BEGIN_REQUEST, ABORT_REQUEST
// and GET_VALUES come out whole, as one fragment with `last` set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "fcgi/record.hpp"

namespace fcgi {

class RecordParser {
 public:
  // Longest GET_VALUES accepted: real peers ask for three short names, and
  // management records run under no request deadline.
  static constexpr std::size_t kMaxGetValuesLen = 1024;

  struct Fragment {
    // The header's tail padding holds `last`: 24 bytes rather than 32 in
    // every connection.
    [[no_unique_address]] Header header;
    // The record's content is complete with this fragment. An empty stream
    // record (end of stream) is a single empty fragment with `last` set.
    bool last = false;
    // Some content of the record; all of it for non-stream types. Valid until
    // the next put().
    std::string_view data;
  };

  // Consumes bytes from `data` up to and including the next fragment, or all
  // of them. After it returns, has_fragment() tells whether a fragment is
  // ready. On error `ec` is set and the parser stays failed: the connection
  // cannot be resynchronised.
  std::size_t put(const std::uint8_t* data, std::size_t size, std::error_code& ec);

  bool has_fragment() const { return has_fragment_; }
  const Fragment& fragment() const { return fragment_; }

  // No partial record is held.
  bool between_records() const {
    return (state_ == State::header && have_ == 0) || (state_ == State::padding && padding_ == 0);
  }

  // Record headers decoded so far: tells whether a partial record is the
  // same as at an earlier look.
  std::uint64_t records() const { return records_; }

  // Checks a header against what a responder may receive.
  static std::error_code validate(const Header& h);
  // Stream records come out in fragments, the others whole.
  static bool is_stream(const Header& h);

 private:
  enum class State : std::uint8_t { header, content, padding, failed };

  void on_header(std::error_code& ec);
  void emit(std::string_view data, bool last);

  // fragment_.header is also the header of the record being parsed, kept
  // between fragments: a second copy would cost every connection 8 bytes.
  Fragment fragment_;
  std::string buffered_;  // content of a non-stream record straddling reads
  std::uint64_t records_ = 0;
  std::uint16_t remaining_ = 0;  // content bytes still to come
  std::uint8_t padding_ = 0;     // padding bytes still to skip
  std::uint8_t bytes_[kHeaderLen] = {};
  std::uint8_t have_ = 0;
  std::uint8_t failure_ = 0;
  State state_ = State::header;
  bool has_fragment_ = false;
};

}  // namespace fcgi
